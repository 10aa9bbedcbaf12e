"""What follows a new password, however it was set.

Every way a password is set (a reset link, an invitation, Django's ``changepassword``, a
shell) ends in ``User.save``, whose post_save calls ``password_changed``: the member's other sessions
and pending logins end (the security stamp rotates; both carry it in their auth hash), their
unused sign-in links are retired, the change is logged and the member is emailed how to get
help if it was not them (ASVS 2.2.3). A view that knows more (a reset, an invitation, and
from which browser) says so first with ``password_change_describe``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import user_sessions_end
from security.events import NO_AUDIT, Audit, Kind, event_record
from twofactor_site.mail import email_send_later

_CHANGE_ATTR = "_twofactor_password_change"


@dataclass(frozen=True)
class PasswordChange:
    kind: str = Kind.PASSWORD_CHANGED
    audit: Audit | None = None


def password_change_describe(user: User, *, kind: str, audit: Audit) -> None:
    """How the next password saved on this ``user`` instance is being set: ``kind`` is the
    event to record, ``audit`` the browser that did it (its holder is the actor)."""
    setattr(user, _CHANGE_ATTR, PasswordChange(kind=kind, audit=audit))


def user_saved(sender, instance: User, raw: bool = False, **kwargs) -> None:
    """post_save of User (connected in accounts.signals): a save that set a new password has
    its aftermath, once."""
    if raw or not getattr(instance, "password_was_set", False):
        return
    instance.password_was_set = False
    password_changed(user=instance)


def password_changed(*, user: User) -> None:
    """The aftermath of a new password on ``user`` (from ``user_saved``)."""
    change = getattr(user, _CHANGE_ATTR, None) or PasswordChange()
    setattr(user, _CHANGE_ATTR, None)
    with transaction.atomic():  # its sessions end and its email is queued together
        user_sessions_end(user=user)
        if change.kind == Kind.PASSWORD_RESET:
            user.password_reset_at = timezone.now()
            User.objects.filter(pk=user.pk).update(password_reset_at=user.password_reset_at)
        event_record(
            kind=change.kind,
            audit=change.audit or NO_AUDIT,
            user=user,
            # Whoever held the link or the invitation; unknown for a command or a shell.
            actor=user if change.audit is not None else None,
        )
        email_send_later(
            to=[user.email],
            name="password-changed",
            context={
                "user": user,
                "invitation": change.kind == Kind.PASSWORD_SET,
                "support_email": settings.SUPPORT_EMAIL,
            },
        )
