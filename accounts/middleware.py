"""Two gates in front of every view: the half-finished login, and session lifetimes."""

from __future__ import annotations

from django.conf import settings
from django.contrib import auth, messages
from django.shortcuts import redirect
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import stages
from accounts.login_flow import pending_login_get
from accounts.presence import LAST_SEEN_SESSION_KEY, session_last_seen, session_lifetime_over

# What a browser holding a pending login may reach besides the pages of every second step
# (accounts.stages.step_url_names): the email link's and the way out.
PENDING_LOGIN_URL_NAMES = frozenset(
    {
        "accounts:login-email-sent",
        "accounts:login-resend",
        "accounts:login-link-token",
        "accounts:login-link",
        "accounts:login-cancel",
        "accounts:login-switch",
        "accounts:logout",
    }
)


def url_name(path: str) -> str | None:
    try:
        return resolve(path).view_name
    except Resolver404:
        return None


class PendingLoginMiddleware:
    """A browser between password and second step reaches nothing but that step (the admin
    and its login page included)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.allowed = PENDING_LOGIN_URL_NAMES | stages.step_url_names()

    def __call__(self, request):
        if not request.user.is_authenticated:
            pending = pending_login_get(request)
            # An expired pending login opens nothing and blocks nothing. It stays in the
            # session so that its step can say "too late" instead of "sign in first"; the
            # step views and the next password step drop it.
            if (
                pending is not None
                and not pending.is_expired()
                and url_name(request.path_info) not in self.allowed
            ):
                return redirect(stages.step_url_name(pending))
        return self.get_response(request)


# The last-seen time (LAST_SEEN_SESSION_KEY) is written (and the session saved, its expiry in
# the store pushed back) at most this often: a session is not written on every request for
# the idle lifetime. The recorded time then lags the last request by less than this, so a
# session may end up to a minute before SESSION_IDLE_MINUTES have passed, never after.
LAST_SEEN_RESOLUTION_SECONDS = 60


class SessionLifetimeMiddleware:
    """The absolute and idle lifetimes of a signed-in session (ASVS 3.3.2):
    SESSION_ABSOLUTE_HOURS since sign-in, SESSION_IDLE_MINUTES since the last request (as
    recorded, at most LAST_SEEN_RESOLUTION_SECONDS behind)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = timezone.now().timestamp()
            if session_lifetime_over(request.session, now=now):
                auth.logout(request)
                messages.info(request, _("Your session ended. Please sign in again."))
                return redirect(settings.LOGIN_URL)
            if now - session_last_seen(request.session) >= LAST_SEEN_RESOLUTION_SECONDS:
                request.session[LAST_SEEN_SESSION_KEY] = now
        return self.get_response(request)
