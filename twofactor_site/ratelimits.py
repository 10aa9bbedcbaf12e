"""Keys and rates for django-ratelimit. Rates are named settings, read at call time.

The key of a half-finished login (its member) is the login's own:
accounts.login_flow.pending_user_key.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest

from accounts.models import normalize_email
from twofactor_site.net import client_ip


def rate(setting_name: str) -> Callable[[str, HttpRequest], str]:
    def current(group: str, request: HttpRequest) -> str:
        return getattr(settings, setting_name)

    current.__name__ = f"rate_{setting_name.lower()}"
    return current


def client_ip_key(group: str, request: HttpRequest) -> str:
    return client_ip(request)


def post_email_key(group: str, request: HttpRequest) -> str:
    return normalize_email(request.POST.get("email", ""))[:254]


def user_key(group: str, request: HttpRequest) -> str:
    return f"user:{request.user.pk}"
