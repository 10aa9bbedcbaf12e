"""A team's OpenID Connect provider, the email domains it covers, and who is linked to it."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Connection(models.Model):
    """The team's identity provider. The client secret is Fernet-encrypted with
    TWOFACTOR_ENCRYPTION_KEYS (security.encryption) and never shown again."""

    account = models.OneToOneField(
        "accounts.Account", on_delete=models.CASCADE, related_name="sso_connection"
    )
    issuer = models.URLField(_("issuer URL"), max_length=500)
    client_id = models.CharField(_("client ID"), max_length=255)
    client_secret_encrypted = models.TextField(blank=True, editable=False)
    enabled = models.BooleanField(_("on"), default=False)
    # Just-in-time provisioning: a person the provider vouches for, with an email of one of the
    # team's verified domains, becomes an SSO member at first sign-in. Off by default: the
    # team's member list is then the admin's alone.
    jit_provisioning = models.BooleanField(_("add people at their first sign-in"), default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("single sign-on connection")

    def __str__(self) -> str:
        return f"SSO of {self.account_id} via {self.issuer}"

    @property
    def has_secret(self) -> bool:
        return bool(self.client_secret_encrypted)


def new_verification_token() -> str:
    # 128 bits: nobody can guess the TXT value of a domain they do not control.
    return secrets.token_urlsafe(16)


class Domain(models.Model):
    """An email domain a team claims. It routes sign-ins to the team's provider only once a
    DNS TXT record proves the team controls it; a verified domain belongs to one team."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="sso_domains"
    )
    domain = models.CharField(_("domain"), max_length=253)
    token = models.CharField(max_length=64, default=new_verification_token, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(fields=["account", "domain"], name="sso_domain_once_per_team"),
            # Pending claims may overlap (nobody can block a domain by typing it); a verified
            # one belongs to exactly one team.
            models.UniqueConstraint(
                fields=["domain"],
                condition=Q(verified_at__isnull=False),
                name="sso_verified_domain_one_team",
            ),
        ]

    def __str__(self) -> str:
        return self.domain

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    @property
    def txt_value(self) -> str:
        return f"twofactor-verification={self.token}"


class Identity(models.Model):
    """A member linked to the provider's subject: set at their first SSO sign-in (matched by
    email), matched by ``(issuer, subject)`` from then on."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identity"
    )
    issuer = models.URLField(max_length=500)
    subject = models.CharField(max_length=255)
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("single sign-on identity")
        verbose_name_plural = _("single sign-on identities")
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="sso_identity_one_member")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} at {self.issuer}"
