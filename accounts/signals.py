"""Receivers: what every completed sign-in writes (one UPDATE of the member's row), a new
password's aftermath, and a deactivation's."""

from __future__ import annotations

from django.contrib.auth.models import update_last_login
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_save
from django.utils import timezone

from accounts import passwords, user_sessions
from accounts.models import User


def sign_in_recorded(sender, request, user: User, **kwargs) -> None:
    """last_login, and the end of any run of wrong codes: a completed sign-in proves the
    second factor, so consecutive failures start again from zero. A sign-in through a trusted
    browser proved none: the run and its lock stay (security.lockout)."""
    now = timezone.now()
    if getattr(user, "second_step_skipped", False):
        User.objects.filter(pk=user.pk).update(last_login=now)
        user.last_login = now
        return
    User.objects.filter(pk=user.pk).update(
        last_login=now, failed_code_count=0, code_locked_until=None
    )
    user.last_login, user.failed_code_count, user.code_locked_until = now, 0, None


def connect() -> None:
    # Django's own receiver saves last_login alone; ours does it in the same statement.
    user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
    user_logged_in.connect(sign_in_recorded, dispatch_uid="twofactor_sign_in_recorded")
    # A new password's aftermath (accounts.passwords), whichever code saved it.
    post_save.connect(passwords.user_saved, sender=User, dispatch_uid="twofactor_password_set")
    # A member turned inactive is signed out everywhere (accounts.user_sessions), likewise.
    post_save.connect(
        user_sessions.user_saved, sender=User, dispatch_uid="twofactor_member_deactivated"
    )
