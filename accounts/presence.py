"""When a signed-in session began, was last used, and when its owner last proved presence (a
sign-in, or their password or a current code again: security.views.reauth). Session keys
only."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib import auth
from django.http import HttpRequest
from django.utils import timezone

from twofactor_site.net import USER_AGENT_MAX, client_ip
from twofactor_site.sessions import SESSION_ID_SESSION_KEY

# When the session was signed in (absolute lifetime) and last proved its owner (re-auth).
SIGNED_IN_AT_SESSION_KEY = "twofactor_signed_in_at"
VERIFIED_AT_SESSION_KEY = "twofactor_verified_at"
# When the signed-in session was last used (accounts.middleware.SessionLifetimeMiddleware
# records it, at most once a minute): the idle lifetime is enforced by the app, not only by
# the store's expiry, so it holds whatever the cache does with timeouts. "Last seen" in the
# list of a member's sessions.
LAST_SEEN_SESSION_KEY = "twofactor_last_seen"
# Where the session was signed in from, for the list of a member's sessions: [IP, user agent].
SIGNED_IN_FROM_SESSION_KEY = "twofactor_signed_in_from"
# Multi-step changes started under a fresh proof: {flow name: when it started}.
PRESENCE_CARRIED_SESSION_KEY = "twofactor_presence_carried"


def signed_in_now(request: HttpRequest) -> None:
    """A sign-in just completed: the session's life starts, it counts as proof of presence,
    and it joins the list of its member's sessions under a random id of its own."""
    now = timezone.now().timestamp()
    session = request.session
    session[SIGNED_IN_AT_SESSION_KEY] = now
    session[VERIFIED_AT_SESSION_KEY] = now
    session[SESSION_ID_SESSION_KEY] = secrets.token_urlsafe(16)
    user_agent = request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX]
    session[SIGNED_IN_FROM_SESSION_KEY] = [client_ip(request), user_agent]
    session.listed()  # written with the session, in its save (twofactor_site.sessions)


def session_last_seen(session) -> float:
    """When the signed-in session ``session`` (a session or its data) was last used, as
    recorded: its sign-in until a later request is."""
    return session.get(LAST_SEEN_SESSION_KEY, session.get(SIGNED_IN_AT_SESSION_KEY, 0))


def session_lifetime_over(session, *, now: float) -> bool:
    """Whether the signed-in session ``session`` outlived its absolute or idle lifetime."""
    signed_in_at = session.get(SIGNED_IN_AT_SESSION_KEY, 0)
    return (
        now - signed_in_at > settings.SESSION_ABSOLUTE_HOURS * 3600
        or now - session_last_seen(session) > settings.SESSION_IDLE_MINUTES * 60
    )


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
