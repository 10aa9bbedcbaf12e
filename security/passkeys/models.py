"""A member's passkeys and security keys, and the challenges their ceremonies answer."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from twofactor_site.text import refuse_control_characters

NAME_MAX = 64


class Passkey(models.Model):
    """One registered WebAuthn credential. Only public material: the key's public key and
    its id; the private key never leaves the authenticator."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="passkeys"
    )
    name = models.CharField(max_length=NAME_MAX, validators=[refuse_control_characters])
    # base64url, as the browser names it; unique across members (WebAuthn 7.1 step 26).
    credential_id = models.CharField(max_length=1400, unique=True)
    public_key = models.BinaryField()  # COSE_Key
    # The authenticator's signature counter as last accepted: only higher ones pass, unless
    # the authenticator keeps none (always 0).
    sign_count = models.BigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)  # hints for the browser
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("passkey")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"passkey {self.pk} of {self.user_id}"


class PasskeyChallenge(models.Model):
    """A challenge we gave a browser: used once (deleted by the answer that uses it), bound
    to that browser (a digest of its pending login's nonce, or of a value kept in its
    session while registering) and short-lived."""

    class Purpose(models.TextChoices):
        REGISTER = "register", _("Register")
        SIGN_IN = "sign_in", _("Sign in")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    binding = models.CharField(max_length=64)  # SHA-256 hex of the browser's secret
    challenge_digest = models.CharField(max_length=64)  # SHA-256 hex of the challenge
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["user", "challenge_digest"])]

    def __str__(self) -> str:
        return f"{self.purpose} challenge of {self.user_id}"
