"""State changes of single sign-on: a team's connection and domains, linking a member to the
provider, converting a password member. Keyword-only; each change a security event."""

from __future__ import annotations

import re

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account, User, normalize_email
from accounts.services import member_add, user_sessions_end
from accounts.sso import dns, oidc
from accounts.sso.models import Connection, Domain, Identity
from security.encryption import DecryptionError, decrypt, encrypt
from security.events import Audit, Kind, event_record
from security.models import RecoveryCode, TOTPDevice
from twofactor_site.mail import email_send_later

# A DNS name of letters, digits and hyphens (IDNA-encoded), at least two labels.
DOMAIN_PATTERN = re.compile(
    r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$"
)


class SSOError(Exception):
    """A change the rules do not allow; the message is for the person asking."""


def redirect_uri() -> str:
    """What the team registers at its provider: built from SITE_URL, never from a request."""
    return settings.SITE_URL + reverse("sso:callback")


def domain_of(email: str) -> str:
    return normalize_email(email).rpartition("@")[2]


def connection_for_email(email: str) -> Connection | None:
    """The provider that signs ``email`` in: the connection, switched on, of the team that
    verified the address's domain. None for every other address."""
    domain = domain_of(email)
    if not domain:
        return None
    return (
        Connection.objects.select_related("account")
        .filter(
            enabled=True,
            account__sso_domains__domain=domain,
            account__sso_domains__verified_at__isnull=False,
        )
        .first()
    )


def client_secret(connection: Connection) -> str:
    """The decrypted client secret. A secret no configured key opens (keys rotated without
    the old one kept) is a set-up problem the page names, never a 500."""
    if not connection.has_secret:
        return ""
    try:
        return decrypt(connection.client_secret_encrypted)
    except DecryptionError:
        raise oidc.ProviderError("secret-unreadable") from None


# --- Connection -------------------------------------------------------------------------------


def connection_save(
    *,
    audit: Audit,
    account: Account,
    by: User | None,
    issuer: str,
    client_id: str,
    secret: str | None,
    enabled: bool,
    jit_provisioning: bool,
) -> Connection:
    """Create or change the team's connection. ``secret`` None keeps the stored one. A new
    issuer unlinks every member (their ``sub`` belonged to the old provider): they are matched
    by email again at their next sign-in."""
    problem = oidc.issuer_problem(issuer)
    if problem:
        raise SSOError(problem)
    with transaction.atomic():
        connection = Connection.objects.select_for_update().filter(account=account).first()
        created = connection is None
        if created:
            connection = Connection(account=account)
        issuer_changed = not created and connection.issuer != issuer
        connection.issuer, connection.client_id = issuer, client_id
        connection.enabled, connection.jit_provisioning = enabled, jit_provisioning
        if secret:
            connection.client_secret_encrypted = encrypt(secret)
        if enabled and not connection.has_secret:
            raise SSOError(_("Enter the client secret to turn single sign-on on."))
        connection.updated_at = timezone.now()
        connection.save()
        if issuer_changed:
            Identity.objects.filter(user__account=account).delete()
        event_record(
            kind=Kind.SSO_SETTINGS_CHANGED,
            audit=audit,
            actor=by,
            account=account,
            issuer=issuer,
            enabled=enabled,
            jit_provisioning=jit_provisioning,
            secret_changed=bool(secret),
        )
    return connection


# --- Domains ----------------------------------------------------------------------------------


def domain_normalize(raw: str) -> str:
    """The domain in its one spelling (lowercase, IDNA), or SSOError."""
    text = (raw or "").strip().rstrip(".").lower()
    if text.startswith("@"):
        text = text[1:]
    try:
        text = text.encode("idna").decode("ascii")
    except UnicodeError:
        raise SSOError(_("Enter a domain such as example.com.")) from None
    if not DOMAIN_PATTERN.match(text):
        raise SSOError(_("Enter a domain such as example.com."))
    return text


def domain_add(*, audit: Audit, account: Account, by: User | None, domain: str) -> Domain:
    domain = domain_normalize(domain)
    if (
        Domain.objects.filter(domain=domain, verified_at__isnull=False)
        .exclude(account=account)
        .exists()
    ):
        raise SSOError(_("%(domain)s is verified by another team.") % {"domain": domain})
    try:
        with transaction.atomic():
            claim = Domain.objects.create(account=account, domain=domain)
    except IntegrityError:
        raise SSOError(_("%(domain)s is already on the list.") % {"domain": domain}) from None
    event_record(kind=Kind.SSO_DOMAIN_ADDED, audit=audit, actor=by, account=account, domain=domain)
    return claim


def domain_verify(*, audit: Audit, claim: Domain, by: User | None) -> bool:
    """Look for the claim's TXT record and mark it verified when it is there. False when it is
    not (yet); SSOError when DNS cannot be asked or another team verified it first."""
    if claim.is_verified:
        return True
    try:
        found = claim.txt_value in dns.txt_records(claim.domain)
    except dns.LookupFailed:
        raise SSOError(
            _("We couldn't ask DNS about %(domain)s just now. Try again in a minute.")
            % {"domain": claim.domain}
        ) from None
    if not found:
        return False
    return domain_mark_verified(audit=audit, claim=claim, by=by, how="dns")


def domain_mark_verified(*, audit: Audit, claim: Domain, by: User | None, how: str) -> bool:
    try:
        with transaction.atomic():
            updated = Domain.objects.filter(pk=claim.pk, verified_at=None).update(
                verified_at=timezone.now()
            )
    except IntegrityError:
        raise SSOError(
            _("%(domain)s was verified by another team first.") % {"domain": claim.domain}
        ) from None
    claim.refresh_from_db()
    if updated:
        event_record(
            kind=Kind.SSO_DOMAIN_VERIFIED,
            audit=audit,
            actor=by,
            account=claim.account,
            domain=claim.domain,
            how=how,
        )
    return True


def domain_remove(*, audit: Audit, claim: Domain, by: User | None) -> None:
    claim.delete()
    event_record(
        kind=Kind.SSO_DOMAIN_REMOVED,
        audit=audit,
        actor=by,
        account=claim.account,
        domain=claim.domain,
    )


# --- Members ----------------------------------------------------------------------------------


class SignInRefused(Exception):
    """The provider vouched for someone we will not sign in; ``reason`` goes to the log."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


def member_for_identity(*, audit: Audit, connection: Connection, identity: oidc.Identity) -> User:
    """The SSO member of the connection's team that ``identity`` is: the one linked to its
    ``sub``, or on first sign-in the SSO member with its email (then linked), or with
    just-in-time provisioning on, a new SSO member. Anyone else raises SignInRefused."""
    account = connection.account
    email = normalize_email(identity.email)
    if not identity.email_verified:
        raise SignInRefused(
            "email-unverified",
            _(
                "Your identity provider hasn't confirmed that %(email)s is your address, so we "
                "can't sign you in with it. Ask your IT team to check your account there."
            )
            % {"email": email},
        )
    if not account.sso_domains.filter(domain=domain_of(email), verified_at__isnull=False).exists():
        raise SignInRefused(
            "domain-not-team",
            _(
                "Your identity provider signed you in as %(email)s, which isn't an address of a "
                "domain %(team)s verified."
            )
            % {"email": email, "team": account.name},
        )
    not_member = SignInRefused(
        "not-member",
        _(
            "%(email)s isn't a member of %(team)s here. Ask one of your team's Account Admins to "
            "add you."
        )
        % {"email": email, "team": account.name},
    )
    link = (
        Identity.objects.select_related("user")
        .filter(issuer=identity.issuer, subject=identity.subject)
        .first()
    )
    if link is not None:
        user = link.user
        if not (user.is_active and user.account_id == account.pk and user.is_sso):
            raise not_member
        return user
    user = User.objects.filter(email=email).first()
    if user is None:
        if not connection.jit_provisioning:
            raise not_member
        return _member_provision(audit=audit, connection=connection, identity=identity)
    if user.account_id != account.pk or not user.is_active:
        raise not_member
    if not user.is_sso:
        raise SignInRefused(
            "password-member",
            _(
                "%(email)s signs in with a password here. Use the password form, or ask an "
                "Account Admin to switch you to single sign-on."
            )
            % {"email": email},
        )
    try:
        with transaction.atomic():
            Identity.objects.create(user=user, issuer=identity.issuer, subject=identity.subject)
    except IntegrityError:  # linked to another subject already (or a racing first sign-in)
        raise SignInRefused(
            "linked-to-another-subject",
            _(
                "%(email)s is linked to another account at your identity provider. Ask an "
                "Account Admin to remove and add you again."
            )
            % {"email": email},
        ) from None
    return user


def _member_provision(*, audit: Audit, connection: Connection, identity: oidc.Identity) -> User:
    try:
        with transaction.atomic():
            user = member_add(
                account=connection.account,
                email=identity.email,
                identity=User.Identity.SSO,
                name=identity.name,
            )
            Identity.objects.create(user=user, issuer=identity.issuer, subject=identity.subject)
    except IntegrityError:  # the same person's first sign-in twice at once
        raise SignInRefused(
            "provision-race", _("Something changed while you signed in. Please try again.")
        ) from None
    event_record(
        kind=Kind.MEMBER_ADDED,
        audit=audit,
        user=user,
        account=connection.account,
        role=str(user.role),
        via="sso",
        issuer=identity.issuer,
    )
    return user


def member_convert_to_sso(*, audit: Audit, member: User, by: User) -> None:
    """From now on ``member`` signs in through the team's provider only: their password,
    authenticator app, recovery codes and unused sign-in links go, every session and pending
    login ends, and they get an email saying so."""
    if member.is_sso:
        return
    with transaction.atomic():
        member = User.objects.select_for_update().get(pk=member.pk)
        member.identity = User.Identity.SSO
        member.set_unusable_password()
        member.failed_code_count, member.code_locked_until = 0, None
        member.save(
            update_fields=["identity", "password", "failed_code_count", "code_locked_until"]
        )
        TOTPDevice.objects.filter(user=member).delete()
        RecoveryCode.objects.filter(user=member).delete()
        user_sessions_end(user=member)  # and its unused sign-in links
        event_record(
            kind=Kind.MEMBER_CONVERTED_TO_SSO,
            audit=audit,
            user=member,
            actor=by,
            account=member.account,
        )
        email_send_later(
            to=[member.email],
            name="sso-converted",
            context={"member": member, "account": member.account, "by": by},
        )
