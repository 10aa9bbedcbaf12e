"""Keys and rates for django-ratelimit. Rates are named settings, read at call time."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest

from accounts.login_flow import pending_login_get
from accounts.models import normalize_email


def rate(setting_name: str) -> Callable[[str, HttpRequest], str]:
    def current(group: str, request: HttpRequest) -> str:
        return getattr(settings, setting_name)

    current.__name__ = f"rate_{setting_name.lower()}"
    return current


def post_email_key(group: str, request: HttpRequest) -> str:
    return normalize_email(request.POST.get("email", ""))[:254]


def pending_user_key(group: str, request: HttpRequest) -> str:
    pending = pending_login_get(request)
    return f"user:{pending.user_id}" if pending else "no-pending-login"


def user_key(group: str, request: HttpRequest) -> str:
    return f"user:{request.user.pk}"
