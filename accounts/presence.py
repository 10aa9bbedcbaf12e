"""When a signed-in session began, and when its owner last proved presence (a sign-in, or
their password or a current code again: security.views.reauth). Session keys only."""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest

# When the session was signed in (absolute lifetime) and last proved its owner (re-auth).
SIGNED_IN_AT_SESSION_KEY = "twofactor_signed_in_at"
VERIFIED_AT_SESSION_KEY = "twofactor_verified_at"


def signed_in_now(request: HttpRequest) -> None:
    """A sign-in just completed: the session's life starts, and it counts as proof of presence."""
    now = time.time()
    request.session[SIGNED_IN_AT_SESSION_KEY] = now
    request.session[VERIFIED_AT_SESSION_KEY] = now


def presence_proved(request: HttpRequest) -> None:
    request.session[VERIFIED_AT_SESSION_KEY] = time.time()


def presence_is_recent(request: HttpRequest) -> bool:
    """Proved within the last TWOFACTOR_REAUTH_MINUTES."""
    verified_at = request.session.get(VERIFIED_AT_SESSION_KEY, 0)
    return time.time() - verified_at <= settings.TWOFACTOR_REAUTH_MINUTES * 60
