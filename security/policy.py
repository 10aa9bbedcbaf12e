"""Who uses which second factor, and who must enroll."""

from __future__ import annotations

from enum import Enum

from django.utils.translation import gettext_lazy as _

from accounts.models import User
from security.models import TOTPDevice


class Method(str, Enum):
    EMAIL_LINK = "email_link"
    TOTP = "totp"
    SSO = "sso"

    @property
    def label(self) -> str:
        return {
            Method.EMAIL_LINK: _("Email link"),
            Method.TOTP: _("Authenticator app"),
            Method.SSO: _("Single sign-on"),
        }[self]


def method_of(user: User, *, has_active_device: bool | None = None) -> Method:
    """The member's second factor. Pass ``has_active_device`` when it is already known (a
    list page annotates it) to spare a query."""
    if user.is_sso:
        return Method.SSO
    if has_active_device is None:
        has_active_device = TOTPDevice.objects.filter(
            user=user, confirmed_at__isnull=False
        ).exists()
    return Method.TOTP if has_active_device else Method.EMAIL_LINK


def must_enroll(user: User) -> bool:
    """A signed-in member whose account requires the app and who has none yet."""
    if user.is_sso or user.account_id is None or not user.account.require_totp:
        return False
    return method_of(user) != Method.TOTP
