"""Set a team's single sign-on without the web page.

    TWOFACTOR_SSO_CLIENT_SECRET=... python manage.py sso_configure "Acme" \\
        --issuer https://acme.okta.com --client-id 0oa... --domain acme.com [--domain ...] \\
        [--verified] [--off] [--jit]
"""

from __future__ import annotations

import getpass
import os
import sys

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Account
from accounts.sso import services
from accounts.sso.models import Connection, Domain
from security.events import NO_AUDIT

SECRET_VARIABLE = "TWOFACTOR_SSO_CLIENT_SECRET"


class Command(BaseCommand):
    help = (
        "Connect a team to its OpenID Connect provider and claim its email domains. The client "
        f"secret is read from {SECRET_VARIABLE} (or asked for when interactive)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("team", help="The team's name, as on its account.")
        parser.add_argument("--issuer", required=True, help="The provider's issuer URL (https).")
        parser.add_argument("--client-id", required=True, help="This site's client ID there.")
        parser.add_argument(
            "--domain",
            action="append",
            default=[],
            help="An email domain the provider covers (repeat for more).",
        )
        parser.add_argument(
            "--verified",
            action="store_true",
            help="Mark the domains verified (you checked them another way); else they wait for "
            "their DNS TXT record.",
        )
        parser.add_argument("--off", action="store_true", help="Save it switched off.")
        parser.add_argument(
            "--jit",
            action="store_true",
            help="Add people the provider signs in at a verified domain as members (off unless "
            "given).",
        )
        parser.add_argument("--noinput", "--no-input", action="store_true")

    def handle(self, *args, **options) -> None:
        try:
            account = Account.objects.get(name=options["team"].strip())
        except Account.DoesNotExist:
            raise CommandError(f"No team is called {options['team']!r}.") from None
        secret = os.environ.get(SECRET_VARIABLE, "").strip() or None
        has_secret = (
            Connection.objects.filter(account=account).exclude(client_secret_encrypted="").exists()
        )
        if secret is None and not has_secret:
            if options["noinput"] or not sys.stdin.isatty():
                raise CommandError(f"Set {SECRET_VARIABLE} to the client secret.")
            secret = getpass.getpass("Client secret: ").strip() or None
            if secret is None:
                raise CommandError("A client secret is needed.")
        try:
            services.connection_save(
                audit=NO_AUDIT,
                account=account,
                by=None,
                issuer=options["issuer"].strip(),
                client_id=options["client_id"].strip(),
                secret=secret,
                enabled=not options["off"],
                jit_provisioning=options["jit"],
            )
            for raw in options["domain"]:
                domain = services.domain_normalize(raw)
                claim = Domain.objects.filter(account=account, domain=domain).first()
                if claim is None:
                    claim = services.domain_add(
                        audit=NO_AUDIT, account=account, by=None, domain=domain
                    )
                if options["verified"]:
                    services.domain_mark_verified(
                        audit=NO_AUDIT, claim=claim, by=None, how="operator"
                    )
        except services.SSOError as error:
            raise CommandError(str(error)) from None
        state = "off" if options["off"] else "on"
        self.stdout.write(f"Single sign-on for {account.name} is {state}: {options['issuer']}")
        self.stdout.write(f"Redirect URI to register at the provider: {services.redirect_uri()}")
        for claim in account.sso_domains.all():
            if claim.is_verified:
                self.stdout.write(f"  {claim.domain}: verified")
            else:
                self.stdout.write(
                    f'  {claim.domain}: not verified; add the DNS TXT record "{claim.txt_value}" '
                    "at the domain, then Verify on the Security page"
                )
