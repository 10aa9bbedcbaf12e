from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from accounts.management.commands._password import PASSWORD_ENV, password_obtain
from accounts.models import Account, User, normalize_email
from accounts.services import member_add
from twofactor_site.text import refuse_control_characters


class Command(BaseCommand):
    help = (
        "Add a member to a team account. "
        f"The password comes from ${PASSWORD_ENV}, or is asked for unless --noinput; "
        "SSO members get none."
    )

    def add_arguments(self, parser):
        parser.add_argument("account", help="The team's name")
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="")
        parser.add_argument("--admin", action="store_true", help="Make them an Account Admin")
        parser.add_argument("--sso", action="store_true", help="They sign in with single sign-on")
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive")

    def handle(
        self,
        *args,
        account: str,
        email: str,
        name: str,
        admin: bool,
        sso: bool,
        interactive: bool,
        **options,
    ):
        email = normalize_email(email)
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"{email!r} is not an email address.") from None
        try:
            refuse_control_characters(name)
        except ValidationError as error:
            raise CommandError(f"--name: {error.messages[0]}") from None
        team = Account.objects.filter(name=account.strip()).first()
        if team is None:
            raise CommandError(f"No account is named {account!r}.")
        if User.objects.filter(email=email).exists():
            raise CommandError(f"{email} already belongs to a team.")
        password = None if sso else password_obtain(interactive=interactive, email=email)
        member = member_add(
            account=team,
            email=email,
            name=name,
            role=User.Role.ADMIN if admin else User.Role.MEMBER,
            identity=User.Identity.SSO if sso else User.Identity.PASSWORD,
            password=password,
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Added {member.email} to {team.name} as {member.get_role_display()}."
            )
        )
