"""The second factor: authenticator devices, recovery codes, and the security event log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from twofactor_site.net import device_name


class TOTPDevice(models.Model):
    """A member's authenticator app. Until ``confirmed_at`` is set (a correct code was
    typed) it is only an enrollment in progress and changes nothing for the member."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device"
    )
    # Fernet-encrypted base32 secret; the key lives in the environment, not here.
    secret_encrypted = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The last time step accepted: only later steps pass (RFC 6238 5.2, replay protection
    # that survives restarts and is shared by every process).
    last_used_step = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("authenticator app")

    def __str__(self) -> str:
        state = "active" if self.confirmed_at else "enrolling"
        return f"authenticator app of {self.user_id} ({state})"


class RecoveryCode(models.Model):
    """One single-use recovery code: matched by keyed digest, kept encrypted so its owner can
    see it again after re-authenticating. ``active`` is False while enrollment is unfinished."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    digest = models.CharField(max_length=64)
    code_encrypted = models.TextField()
    active = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "digest"])]

    def __str__(self) -> str:
        return f"recovery code {self.pk} of {self.user_id}"


class SecurityEvent(models.Model):
    """Something that happened to someone's sign-in security. Never holds a secret."""

    class Kind(models.TextChoices):
        SIGN_IN = "sign_in", _("Signed in")
        PASSWORD_FAILED = "password_failed", _("Wrong password")
        CODE_FAILED = "code_failed", _("Wrong code or refused passkey")
        LOCKED_OUT = "locked_out", _("Locked out after wrong codes")
        LINK_SENT = "link_sent", _("Sign-in link sent")
        LINK_OTHER_BROWSER = "link_other_browser", _("Sign-in link opened in another browser")
        RECOVERY_CODE_USED = "recovery_code_used", _("Recovery code used")
        RECOVERY_CODES_REGENERATED = "recovery_codes_regenerated", _("Recovery codes regenerated")
        TOTP_ADDED = "totp_added", _("Authenticator app added")
        TOTP_REMOVED = "totp_removed", _("Authenticator app removed")
        PASSKEY_ADDED = "passkey_added", _("Passkey added")
        PASSKEY_RENAMED = "passkey_renamed", _("Passkey renamed")
        PASSKEY_REMOVED = "passkey_removed", _("Passkey removed")
        PASSKEY_COUNTER_WENT_BACK = (
            "passkey_counter_went_back",
            _("Passkey refused: its counter went backwards (a copied key?)"),
        )
        REQUIREMENT_ON = "requirement_on", _("Authenticator app required for the team")
        REQUIREMENT_OFF = "requirement_off", _("Authenticator app no longer required")
        REQUIREMENT_CHANGED = (
            "requirement_changed",
            _("Requirement's start date or grace period changed"),
        )
        MEMBER_ADDED = "member_added", _("Member added")
        MEMBER_REMOVED = "member_removed", _("Member removed")
        MEMBER_READDED = "member_readded", _("Member removed and added again")
        PASSWORD_RESET = "password_reset", _("Password reset")
        PASSWORD_SET = "password_set", _("Password set from an invitation")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        SIGN_IN_AFTER_RESET = (
            "sign_in_after_reset",
            _("New browser signed in after a password reset"),
        )
        SIGN_IN_NEW_BROWSER = "sign_in_new_browser", _("New browser signed in")
        TRUSTED_BROWSER_ADDED = "trusted_browser_added", _("Browser trusted")
        TRUSTED_BROWSER_REMOVED = "trusted_browser_removed", _("Stopped trusting a browser")
        TRUSTED_BROWSERS_ENDED = (
            "trusted_browsers_ended",
            _("Every trusted browser of a member ended"),
        )
        TRUST_SETTINGS_CHANGED = "trust_settings_changed", _("Trusted-browser setting changed")
        SIGN_OUT = "sign_out", _("Signed out")
        SESSION_ENDED = "session_ended", _("Signed out a session from another browser")
        OTHER_SESSIONS_ENDED = "other_sessions_ended", _("Signed out everywhere else")
        ALL_SESSIONS_ENDED = "all_sessions_ended", _("Signed out everywhere by an admin")
        ADMIN_LOOKUP_REFUSED = "admin_lookup_refused", _("Admin filter refused")
        SSO_REFUSED = "sso_refused", _("Single sign-on refused")
        SSO_SETTINGS_CHANGED = "sso_settings_changed", _("Single sign-on settings changed")
        SSO_DOMAIN_ADDED = "sso_domain_added", _("Single sign-on domain added")
        SSO_DOMAIN_VERIFIED = "sso_domain_verified", _("Single sign-on domain verified")
        SSO_DOMAIN_REMOVED = "sso_domain_removed", _("Single sign-on domain removed")
        MEMBER_CONVERTED_TO_SSO = "member_converted_to_sso", _("Member switched to single sign-on")
        SECURITY_LOG_EXPORTED = "security_log_exported", _("Security log exported")
        EMAIL_FAILED = "email_failed", _("Email could not be delivered")

    kind = models.CharField(max_length=40, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Whom it happened to, and who did it; emails kept so the record outlives the user.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    user_email = models.EmailField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_email = models.EmailField(blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-created_at"]),
            models.Index(fields=["user", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.user_email or '-'} · {self.created_at:%Y-%m-%d %H:%M}"

    # How a sign-in was made (detail["method"]), as the log says it.
    METHODS = {
        "email_link": _("email link"),
        "totp": _("authenticator app"),
        "recovery_code": _("recovery code"),
        "passkey": _("passkey"),
        "invitation": _("from the invitation"),
        "sso": _("single sign-on"),
        "trusted_browser": _("trusted browser"),
    }

    @property
    def method(self) -> str:
        """The second step a sign-in was made with, in words ("" for other events)."""
        method = self.detail.get("method", "") if isinstance(self.detail, dict) else ""
        return str(self.METHODS.get(method, method))

    @property
    def device(self) -> str:
        """The browser as a person names it ("Chrome on Linux"), from the stored user agent."""
        return device_name(self.user_agent)


class RequirementReminder(models.Model):
    """A reminder email sent (or being sent) to a member who has not set up the factor their
    team's requirement will ask for: one row per member, deadline and reminder, so that
    ``manage.py send_reminders`` sends each once however often, and however many at once, it
    runs (the unique constraint decides which run sends)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # The member's deadline the reminder was for: a new date (rescheduled) reminds again.
    deadline = models.DateTimeField()
    days_before = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "deadline", "days_before"], name="one_reminder_each"
            )
        ]

    def __str__(self) -> str:
        return f"reminder {self.days_before}d before {self.deadline:%Y-%m-%d} to {self.user_id}"
