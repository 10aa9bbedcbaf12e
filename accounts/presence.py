"""When a signed-in session began, and when its owner last proved presence (a sign-in, or
their password or a current code again: security.views.reauth). Session keys only."""

from __future__ import annotations

from django.conf import settings
from django.contrib import auth
from django.http import HttpRequest
from django.utils import timezone

# When the session was signed in (absolute lifetime) and last proved its owner (re-auth).
SIGNED_IN_AT_SESSION_KEY = "twofactor_signed_in_at"
VERIFIED_AT_SESSION_KEY = "twofactor_verified_at"
# Multi-step changes started under a fresh proof: {flow name: when it started}.
PRESENCE_CARRIED_SESSION_KEY = "twofactor_presence_carried"


def signed_in_now(request: HttpRequest) -> None:
    """A sign-in just completed: the session's life starts, and it counts as proof of presence."""
    now = timezone.now().timestamp()
    request.session[SIGNED_IN_AT_SESSION_KEY] = now
    request.session[VERIFIED_AT_SESSION_KEY] = now


def presence_proved(request: HttpRequest) -> None:
    request.session[VERIFIED_AT_SESSION_KEY] = timezone.now().timestamp()


def presence_is_recent(request: HttpRequest, *, flow: str | None = None) -> bool:
    """Proved within the last TWOFACTOR_REAUTH_MINUTES; or, given ``flow``, that multi-step
    change was started under such a proof (``presence_carry``) within that long."""
    window = settings.TWOFACTOR_REAUTH_MINUTES * 60
    now = timezone.now().timestamp()
    verified_at = request.session.get(VERIFIED_AT_SESSION_KEY, 0)
    if isinstance(verified_at, (int, float)) and now - verified_at <= window:
        return True
    if flow is None:
        return False
    started = (request.session.get(PRESENCE_CARRIED_SESSION_KEY) or {}).get(flow, 0)
    return isinstance(started, (int, float)) and now - started <= window


def presence_carry(request: HttpRequest, *, flow: str) -> None:
    """A view behind a fresh proof starts the multi-step change ``flow`` (setting up an app:
    codes, then the app, then a code): its later steps pass for one more window from now, so
    a member enrolling right after signing in is never asked twice."""
    carried = dict(request.session.get(PRESENCE_CARRIED_SESSION_KEY) or {})
    carried[flow] = timezone.now().timestamp()
    request.session[PRESENCE_CARRIED_SESSION_KEY] = carried


def presence_carry_end(request: HttpRequest, *, flow: str) -> None:
    """The multi-step change is done: its carried proof goes."""
    carried = dict(request.session.get(PRESENCE_CARRIED_SESSION_KEY) or {})
    if carried.pop(flow, None) is not None:
        request.session[PRESENCE_CARRIED_SESSION_KEY] = carried


def session_reattach(request: HttpRequest) -> bool:
    """After a change of the member's own that ended their other sessions
    (accounts.services.user_sessions_end): this session goes on, unless a racing change ended
    it first; then it is signed out, never brought back. True when it goes on."""
    if getattr(request.user, "sessions_end_raced", False):
        auth.logout(request)
        return False
    auth.update_session_auth_hash(request, request.user)
    return True
