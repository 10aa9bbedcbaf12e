"""Keys and rates for django-ratelimit, and its decorator telling the 429 page which limit hit.
Rates are named settings, read at call time.

The key of a half-finished login (its member) is the login's own:
accounts.login_flow.pending_user_key.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import django_ratelimit.decorators
from django.conf import settings
from django.http import HttpRequest
from django_ratelimit import ALL
from django_ratelimit.core import get_usage
from django_ratelimit.exceptions import Ratelimited

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


def ratelimit(
    *,
    group: str,
    key,
    rate,
    method=ALL,
    note: Callable[[HttpRequest], str] | None = None,
):
    """django-ratelimit's decorator (blocking), telling the 429 page which limit hit and when
    its window ends: the refusal carries ``group`` and ``retry_after`` (seconds), and
    ``note(request)``'s text, said on the page when it is not empty (what still works)."""
    limited = django_ratelimit.decorators.ratelimit(group=group, key=key, rate=rate, method=method)

    def decorator(view):
        checked = limited(view)

        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            try:
                return checked(request, *args, **kwargs)
            except Ratelimited as refusal:
                if getattr(refusal, "group", None) is None:  # the first limit to refuse
                    usage = get_usage(request, group=group, key=key, rate=rate, method=method)
                    refusal.group = group
                    refusal.retry_after = usage["time_left"] if usage else None
                    refusal.note = note(request) if note is not None else ""
                raise

        return wrapped

    return decorator


def account_key(group: str, request: HttpRequest) -> str:
    """The signed-in member's team: a limit shared by all its Account Admins."""
    return f"account:{request.user.account_id}"
