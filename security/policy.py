"""Who uses which second factor, and who must enroll."""

from __future__ import annotations

from enum import Enum

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, User
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


def active_apps() -> QuerySet[TOTPDevice]:
    """Authenticator apps in use: enrolled and confirmed with a code."""
    return TOTPDevice.objects.filter(confirmed_at__isnull=False)


def with_second_factor(users: QuerySet[User]) -> QuerySet[User]:
    """``users`` with ``has_app`` annotated, so a list needs no query per member."""
    return users.annotate(has_app=Exists(active_apps().filter(user=OuterRef("pk"))))


def method_of(user: User, *, has_active_device: bool | None = None) -> Method:
    """The member's second factor. Pass ``has_active_device`` when it is already known (a
    list annotated by ``with_second_factor``) to spare a query."""
    if user.is_sso:
        return Method.SSO
    if has_active_device is None:
        has_active_device = active_apps().filter(user=user).exists()
    return Method.TOTP if has_active_device else Method.EMAIL_LINK


def requirement_applies(user: User) -> bool:
    """Whether the team's requirement binds this member, as it stands in the database now
    (SSO members are exempt: their identity provider handles sign-in security)."""
    return (
        user.account_id is not None
        and not user.is_sso
        and Account.objects.filter(pk=user.account_id, require_totp=True).exists()
    )


def must_enroll(user: User) -> bool:
    """A signed-in member whose account requires the app and who has none yet."""
    return requirement_applies(user) and method_of(user) != Method.TOTP
