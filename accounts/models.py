"""Team accounts, their members, and the emailed sign-in links."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from twofactor_site.text import refuse_control_characters

# The longest a browser may stay trusted (a team may choose fewer days): a month, as GitHub and
# Google Workspace offer, so a stolen laptop's trust ends on its own soon enough.
TRUST_DAYS_MAX = 30


class Account(models.Model):
    """A team: the unit that an Account Admin manages and that may require the app."""

    # Shown in email subjects: no line breaks or other control characters.
    name = models.CharField(
        _("name"), max_length=120, unique=True, validators=[refuse_control_characters]
    )
    require_totp = models.BooleanField(
        _("require authenticator app"),
        default=False,
        help_text=_("Every password (non-SSO) member must use an authenticator app."),
    )
    # What the requirement accepts: the app only, or the app or a passkey.
    accept_passkeys = models.BooleanField(
        _("requirement accepts passkeys"),
        default=False,
        help_text=_("A passkey or security key meets the requirement as well as the app."),
    )
    # "Trust this browser" at the second step: whether the team offers it, and for how long.
    trust_browsers = models.BooleanField(
        _("offer trusted browsers"),
        default=True,
        help_text=_("Members may skip the second step in a browser they trusted."),
    )
    trust_days = models.PositiveSmallIntegerField(
        _("days a browser stays trusted"),
        default=TRUST_DAYS_MAX,
        validators=[MinValueValidator(1), MaxValueValidator(TRUST_DAYS_MAX)],
    )
    # When the requirement starts sending members to set-up (security.policy.member_deadline):
    # a date ahead lets the team set up first, warned by a banner and reminder emails. Null
    # while it is off, and for a requirement turned on before it could be scheduled (in force).
    require_from = models.DateTimeField(_("requirement starts"), null=True, blank=True)
    # Days a member added later has to set up, counted from when they joined: their own
    # deadline is the later of require_from and that (at most two weeks: see policy).
    grace_days = models.PositiveSmallIntegerField(
        _("grace period for new members (days)"),
        default=0,
        validators=[MaxValueValidator(14)],
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, email: str) -> User:
        return self.get(email__iexact=email)

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        user = self.model(email=normalize_email(email), **fields)
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


def normalize_email(email: str) -> str:
    """One spelling per address: surrounding space removed, the whole address lowercased."""
    return (email or "").strip().lower()


def new_security_stamp() -> str:
    return secrets.token_hex(16)


class User(AbstractBaseUser, PermissionsMixin):
    class Role(models.TextChoices):
        ADMIN = "admin", _("Account Admin")
        MEMBER = "member", _("Member")

    class Identity(models.TextChoices):
        PASSWORD = "password", _("Password")
        SSO = "sso", _("Single sign-on")

    email = models.EmailField(_("email address"), unique=True)
    name = models.CharField(
        _("name"), max_length=150, blank=True, validators=[refuse_control_characters]
    )
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, null=True, blank=True, related_name="members"
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    identity = models.CharField(
        _("identity source"), max_length=10, choices=Identity.choices, default=Identity.PASSWORD
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(
        _("support staff"), default=False, help_text=_("Can sign in to the Django admin.")
    )
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)
    # Changing this ends every session of the user at its next request: it is part of the
    # session's auth hash. Rotated on factor changes and removal.
    security_stamp = models.CharField(max_length=32, default=new_security_stamp, editable=False)
    # Consecutive wrong second-factor codes, and the lockout they cause. Kept in the database
    # so the limit holds across processes, hosts, restarts and fresh sessions.
    failed_code_count = models.PositiveIntegerField(default=0, editable=False)
    # When the password was last set through a reset link: the first sign-in after it from a
    # browser that had not signed in as this member is a notice (accounts.sign_in_notices).
    # On the row, so a sign-in needs no query to know.
    password_reset_at = models.DateTimeField(null=True, blank=True, editable=False)
    code_locked_until = models.DateTimeField(null=True, blank=True, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        permissions = [("support_member", "Can remove and re-add team members")]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email)

    def save(self, *args, **kwargs) -> None:
        # A new password on an existing member, however it was set (a reset, an invitation,
        # Django's changepassword, a shell): accounts.passwords hears it on post_save and ends
        # their other sessions, links and pending logins, logs it and emails them. A hash
        # upgraded at sign-in is not a new password (Django clears _password for it).
        self.password_was_set = self._password is not None and not self._state.adding
        # Turned inactive, however (the admin, a shell, a script): accounts.user_sessions
        # hears it on post_save and signs them out everywhere. Asked only of a save that
        # writes is_active False, so other saves cost nothing.
        update_fields = kwargs.get("update_fields")
        self.deactivated = (
            not self.is_active
            and not self._state.adding
            and (update_fields is None or "is_active" in update_fields)
            and User.objects.filter(pk=self.pk, is_active=True).exists()
        )
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name or self.email

    @property
    def is_account_admin(self) -> bool:
        return self.account_id is not None and self.role == self.Role.ADMIN

    @property
    def is_sso(self) -> bool:
        return self.identity == self.Identity.SSO

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        # Django's hash covers the password; ours covers the security stamp too, so that
        # rotating the stamp signs the user out everywhere, as a password change does.
        key_salt = "accounts.User.get_session_auth_hash"
        return salted_hmac(
            key_salt, f"{self.password}:{self.security_stamp}", secret=secret, algorithm="sha256"
        ).hexdigest()


class SignInLink(models.Model):
    """An emailed sign-in link. Only a hash of its token is stored, and it is bound to the
    browser that entered the password through a hash of that pending login's nonce."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    browser_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "used_at", "retired_at"])]

    def __str__(self) -> str:
        return f"sign-in link for {self.user_id} at {self.created_at:%Y-%m-%d %H:%M}"


class TrustedBrowser(models.Model):
    """A browser a member chose to trust at their second step: it skips that step at their
    next sign-ins (the password is still asked) until it expires or the trust is ended. The
    browser holds a random token in a cookie; only its SHA-256 digest is stored here."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="trusted_browsers"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=100, blank=True)  # "Firefox on Windows"
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True, blank=True)  # where it was last used
    # A keyed digest of the member's security stamp when the trust was made: any change to how
    # they sign in rotates the stamp (accounts.services.user_sessions_end), and a trust made
    # with another stamp, even one written while that change ran, skips nothing.
    stamp_digest = models.CharField(max_length=64, default="")

    class Meta:
        ordering = ["-last_used_at", "-id"]

    def __str__(self) -> str:
        return f"trusted browser {self.pk} of {self.user_id}"
