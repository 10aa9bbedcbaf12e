"""Known browsers: has this browser completed a sign-in as this member before?

OWASP's "device cookie" (Authentication Cheat Sheet, "Device Cookies"): at every completed
sign-in the browser gets a signed cookie naming the member (their id and a keyed digest of
their address, never the address itself) with a random nonce. Django's signing (HMAC with
SECRET_KEY, rotated with SECRET_KEY_FALLBACKS) makes it unforgeable; nothing is stored
server-side. One cookie holds up to ``MAX_MEMBERS`` members, for a shared computer.

What it is for:
- the password step counts wrong passwords for an address separately for each known browser
  of that address and for everyone else (``login_attempt_key``), so failures from elsewhere
  never lock the member's own browser out, while guessing stays limited everywhere;
- ``browser_is_known(request, user)`` is the one question other features ask ("new sign-in
  from a browser that never signed in as this member", trusted browsers): ask it here.

It is not a factor and proves nothing on its own: a known browser still gives the password
and the second step. A copied cookie only earns its holder a separate, equally small budget
of password attempts for that one member.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from accounts.models import User, normalize_email

SALT = "twofactor.accounts.known_browsers"
# A shared computer may be used by a few members; more than this and the oldest is forgotten.
MAX_MEMBERS = 5


def _lifetime_seconds() -> int:
    return settings.TWOFACTOR_KNOWN_BROWSER_DAYS * 86400


def _email_digest(email: str) -> str:
    """A keyed digest of the address: the cookie names the member without showing it."""
    return salted_hmac(SALT + ".email", normalize_email(email), algorithm="sha256").hexdigest()[:32]


def _entries(request: HttpRequest) -> list[dict]:
    """The valid, unexpired entries of this browser's cookie (none when absent or forged)."""
    raw = request.COOKIES.get(settings.TWOFACTOR_KNOWN_BROWSER_COOKIE_NAME)
    if not raw or len(raw) > 4096:
        return []
    try:
        entries = signing.loads(raw, salt=SALT, max_age=_lifetime_seconds())
    except signing.BadSignature:
        return []
    if not isinstance(entries, list):
        return []
    oldest = timezone.now().timestamp() - _lifetime_seconds()
    return [
        entry
        for entry in entries
        if isinstance(entry, dict)
        and isinstance(entry.get("u"), int)
        and isinstance(entry.get("e"), str)
        and isinstance(entry.get("n"), str)
        and isinstance(entry.get("t"), (int, float))
        and entry["t"] >= oldest
    ]


def _entry_for_email(request: HttpRequest, email: str) -> dict | None:
    digest = _email_digest(email)
    for entry in _entries(request):
        if constant_time_compare(entry["e"], digest):
            return entry
    return None


def browser_is_known(request: HttpRequest, user: User) -> bool:
    """Has this browser completed a sign-in as ``user`` before (within
    TWOFACTOR_KNOWN_BROWSER_DAYS)? A member removed and added again is a new member: the
    browsers of the old one are not theirs."""
    entry = _entry_for_email(request, user.email)
    return entry is not None and entry["u"] == user.pk


def browser_remember(request: HttpRequest, response: HttpResponse, *, user: User) -> None:
    """Call when ``user`` completed a sign-in in this browser: ``response`` carries the
    refreshed cookie (this member first, the oldest others forgotten beyond MAX_MEMBERS)."""
    digest = _email_digest(user.email)
    others = [entry for entry in _entries(request) if entry["e"] != digest]
    mine = {
        "u": user.pk,
        "e": digest,
        "n": secrets.token_urlsafe(16),
        "t": int(timezone.now().timestamp()),
    }
    entries = [mine, *others][:MAX_MEMBERS]
    response.set_cookie(
        settings.TWOFACTOR_KNOWN_BROWSER_COOKIE_NAME,
        signing.dumps(entries, salt=SALT, compress=True),
        max_age=_lifetime_seconds(),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def login_attempt_key(group: str, request: HttpRequest) -> str:
    """django-ratelimit key of a password attempt: the address, counted apart for each known
    browser of it ("known:<member>:<nonce>") and for every other browser together
    ("address:<email>"). Reads only the cookie and the form: no query."""
    email = normalize_email(request.POST.get("email", ""))[:254]
    entry = _entry_for_email(request, email) if email else None
    if entry is not None:
        return f"known:{entry['e']}:{entry['n']}"
    return f"address:{email}"


def attempt_from_known_browser(request: HttpRequest, email: str) -> bool:
    """Whether a password attempt for ``email`` carries a known-browser cookie of it (the
    security log says so for each wrong password)."""
    return _entry_for_email(request, email) is not None
