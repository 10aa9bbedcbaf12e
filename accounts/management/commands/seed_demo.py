from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Account, User
from accounts.services import account_create, member_add

DEMO_ACCOUNT = "Demo Team"
DEMO_PASSWORD = "demo-password-2fa"  # noqa: S105 (a published demo login, refused outside debug)
DEMO_USERS = [
    ("admin@demo.test", "Ada Admin", User.Role.ADMIN, User.Identity.PASSWORD),
    ("member@demo.test", "Max Member", User.Role.MEMBER, User.Identity.PASSWORD),
    ("sso@demo.test", "Sam Single-Sign-On", User.Role.MEMBER, User.Identity.SSO),
]


class Command(BaseCommand):
    help = "Create a demo team with an admin and two members (debug only), and print the logins."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("seed_demo only runs with DJANGO_DEBUG=1: its password is public.")
        if not Account.objects.filter(name=DEMO_ACCOUNT).exists():
            (email, name, _role, _identity), *members = DEMO_USERS
            account, admin = account_create(
                name=DEMO_ACCOUNT, admin_email=email, admin_password=DEMO_PASSWORD
            )
            User.objects.filter(pk=admin.pk).update(name=name, is_staff=True, is_superuser=True)
            for email, name, role, identity in members:
                member_add(
                    account=account,
                    email=email,
                    name=name,
                    role=role,
                    identity=identity,
                    password=DEMO_PASSWORD,
                )
        self.stdout.write(
            self.style.SUCCESS(f"Demo team {DEMO_ACCOUNT!r} at {settings.SITE_URL}/login/")
        )
        self.stdout.write(f"  admin@demo.test   / {DEMO_PASSWORD}   (Account Admin, support staff)")
        self.stdout.write(f"  member@demo.test  / {DEMO_PASSWORD}   (member)")
        self.stdout.write("  sso@demo.test     (SSO member: signs in through an identity provider)")
        self.stdout.write(
            "The sign-in link is printed in this terminal (emails go to the console)."
        )
