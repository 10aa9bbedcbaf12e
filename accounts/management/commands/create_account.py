from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import IntegrityError

from accounts.management.commands._password import PASSWORD_ENV, password_obtain
from accounts.models import Account, User, normalize_email
from accounts.services import account_create
from twofactor_site.text import refuse_control_characters


class Command(BaseCommand):
    help = (
        "Create a team account and its first Account Admin. "
        f"The password comes from ${PASSWORD_ENV}, or is asked for unless --noinput."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help='The team\'s name, e.g. "Acme"')
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive")

    def handle(self, *args, name: str, admin_email: str, interactive: bool, **options):
        if not name.strip():
            raise CommandError("The account needs a name.")
        try:
            refuse_control_characters(name)
        except ValidationError as error:
            raise CommandError(f"The name: {error.messages[0]}") from None
        email = normalize_email(admin_email)
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"{admin_email!r} is not an email address.") from None
        if Account.objects.filter(name=name.strip()).exists():
            raise CommandError(f"An account named {name!r} already exists.")
        if User.objects.filter(email=email).exists():
            raise CommandError(f"{email} already belongs to a team.")
        password = password_obtain(interactive=interactive, email=email)
        try:
            account, admin = account_create(name=name, admin_email=email, admin_password=password)
        except IntegrityError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Created {account.name} with Account Admin {admin.email}.")
        )
        if password is None:
            self.stdout.write("No password was given: reset it at /password-reset/ to sign in.")
