"""Trusted browsers, kept on the server: "Trust this browser for 30 days" at the second step.

A member who ticks it at their second step gets a server-side ``TrustedBrowser`` record and
a random token in a cookie (HttpOnly, SameSite=Lax, Secure in production); only the token's
SHA-256 digest is stored. At their next sign-ins in that browser the password is still asked,
and the second step is skipped (accounts.views, ``trusted_browser_use``) unless:

- the team no longer offers it (Security page), or the trust is older than the team's days;
- the member's code step is locked (security.lockout): a trust never opens a locked step,
  and a sign-in through it does not clear a run of wrong codes (accounts.signals);
- the member must set up a factor the team's requirement accepts (accounts.stages).

Unlike a signed cookie, a trust can be listed and ended: by the member ("Stop trusting"), by
an Account Admin (every trust of a member), and by every change to how the member signs in:
``user_sessions_end`` (a new password, a factor added, removed or changed, removal) ends them
all, and so does turning the team's requirement on. One cookie holds the tokens of up to
``MAX_TOKENS`` trusts, for a computer shared by a few members.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.models import TRUST_DAYS_MAX, Account, TrustedBrowser, User
from security.events import Audit, Kind, event_build, event_record
from security.models import SecurityEvent
from twofactor_site.mail import email_send_later
from twofactor_site.net import device_name

# A shared computer: the trusts of this many members at most; the oldest token is dropped.
MAX_TOKENS = 5
# secrets.token_urlsafe(32): 256 random bits, 43 characters of the URL-safe alphabet.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
_SEPARATOR = "."


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _stamp_digest(user: User) -> str:
    return salted_hmac(
        "twofactor.trusted-browser", user.security_stamp, algorithm="sha256"
    ).hexdigest()


def _tokens(request: HttpRequest) -> list[str]:
    """The well-formed tokens of this browser's cookie, newest first (none when absent)."""
    raw = request.COOKIES.get(settings.TWOFACTOR_TRUSTED_BROWSER_COOKIE_NAME, "")
    if not raw or len(raw) > 1024:
        return []
    return [t for t in raw.split(_SEPARATOR) if _TOKEN.fullmatch(t)][:MAX_TOKENS]


def _cookie_set(response: HttpResponse, tokens: list[str]) -> None:
    name = settings.TWOFACTOR_TRUSTED_BROWSER_COOKIE_NAME
    if not tokens:
        response.delete_cookie(name, samesite="Lax")
        return
    response.set_cookie(
        name,
        _SEPARATOR.join(tokens[:MAX_TOKENS]),
        max_age=TRUST_DAYS_MAX * 86400,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def cookie_present(request: HttpRequest) -> bool:
    """Whether this browser holds any trust token (only then is one looked up)."""
    return bool(_tokens(request))


# --- Reading -------------------------------------------------------------------------------


def trusted_browsers_of(request: HttpRequest, *, user: User) -> list[TrustedBrowser]:
    """The member's unexpired trusts, last used first; ``this_browser`` marks this one's."""
    mine = {_digest(t) for t in _tokens(request)}
    live = TrustedBrowser.objects.filter(user=user, stamp_digest=_stamp_digest(user))
    rows = list(live.filter(expires_at__gt=timezone.now()))
    for row in rows:
        row.this_browser = row.token_hash in mine
    return rows


# --- Using ---------------------------------------------------------------------------------


def trusted_browser_use(request: HttpRequest, *, user: User, account: Account) -> bool:
    """Whether this browser holds an unexpired trust of ``user`` (within ``account``'s days
    as they are now); if so it is marked used, from this IP, by the same conditional UPDATE.
    No query without a cookie."""
    tokens = _tokens(request)
    if not tokens:
        return False
    now = timezone.now()
    audit = Audit.of(request)
    return (
        TrustedBrowser.objects.filter(
            user=user,
            token_hash__in=[_digest(t) for t in tokens],
            stamp_digest=_stamp_digest(user),
            expires_at__gt=now,
            created_at__gt=now - timedelta(days=account.trust_days),
        ).update(last_used_at=now, ip=audit.ip)
        > 0
    )


# --- Changing ------------------------------------------------------------------------------


def trusted_browser_add(
    request: HttpRequest, response: HttpResponse, *, user: User, days: int
) -> SecurityEvent:
    """Trust this browser for ``user`` for ``days`` (the caller checked that the team offers
    it): a new record, its token in ``response``'s cookie. Returns the event, not yet stored
    (the sign-in stores it with its own)."""
    token = secrets.token_urlsafe(32)
    audit = Audit.of(request)
    now = timezone.now()
    browser = TrustedBrowser.objects.create(
        user=user,
        token_hash=_digest(token),
        stamp_digest=_stamp_digest(user),
        name=device_name(audit.user_agent)[:100],
        created_at=now,
        last_used_at=now,
        expires_at=now + timedelta(days=days),
        ip=audit.ip,
    )
    _cookie_set(response, [token, *_tokens(request)])
    return event_build(
        kind=Kind.TRUSTED_BROWSER_ADDED,
        audit=audit,
        user=user,
        actor=user,
        browser=browser.name,
        days=days,
    )


def trusted_browser_stop(
    request: HttpRequest, response: HttpResponse, *, user: User, browser_id: int
) -> bool:
    """The member stops trusting one of their browsers (a security event). When it is this
    one, its token leaves the cookie too."""
    browser = TrustedBrowser.objects.filter(user=user, pk=browser_id).first()
    if browser is None:
        return False
    deleted, _by_model = TrustedBrowser.objects.filter(pk=browser.pk).delete()
    if not deleted:
        return False  # stopped at the same moment by another request
    tokens = _tokens(request)
    kept = [t for t in tokens if _digest(t) != browser.token_hash]
    if kept != tokens:
        _cookie_set(response, kept)
    event_record(
        kind=Kind.TRUSTED_BROWSER_REMOVED,
        audit=Audit.of(request),
        user=user,
        browser=browser.name,
    )
    return True


def trusted_browsers_end(*, user: User) -> int:
    """End every trust of ``user`` (accounts.services.user_sessions_end calls it: every
    change to how they sign in). Returns how many ended."""
    deleted, _by_model = TrustedBrowser.objects.filter(user=user).delete()
    return deleted


def trusted_browsers_end_for_team(*, account: Account) -> int:
    """End every trust of every member of ``account`` (the requirement turned on, or the team
    stopped offering trust)."""
    deleted, _by_model = TrustedBrowser.objects.filter(user__account=account).delete()
    return deleted


def member_trust_end(*, audit: Audit, member: User, by: User) -> int:
    """An Account Admin ends every trust of ``member``: a security event, and the member is
    emailed when there was any."""
    ended = trusted_browsers_end(user=member)
    event_record(kind=Kind.TRUSTED_BROWSERS_ENDED, audit=audit, user=member, actor=by, ended=ended)
    if ended:
        email_send_later(
            to=[member.email],
            name="trusted-browsers-ended",
            context={"member": member, "by": by, "support_email": settings.SUPPORT_EMAIL},
        )
    return ended


def trust_settings_set(
    *, audit: Audit, account: Account, admin: User, offer: bool, days: int
) -> bool:
    """The team's trusted-browser option: offered or not, and for how many days (1 to
    TRUST_DAYS_MAX). Turning it off ends every trust of the team; fewer days shorten the
    trusts that would outlive them. Returns whether anything changed."""
    days = max(1, min(TRUST_DAYS_MAX, days))
    changed = (
        Account.objects.filter(pk=account.pk)
        .exclude(trust_browsers=offer, trust_days=days)
        .update(trust_browsers=offer, trust_days=days)
    )
    account.trust_browsers, account.trust_days = offer, days
    if not changed:
        return False
    if not offer:
        trusted_browsers_end_for_team(account=account)
    else:
        limit = F("created_at") + timedelta(days=days)
        TrustedBrowser.objects.filter(user__account=account, expires_at__gt=limit).update(
            expires_at=limit
        )
    event_record(
        kind=Kind.TRUST_SETTINGS_CHANGED,
        audit=audit,
        user=admin,
        actor=admin,
        account=account,
        offered=offer,
        days=days,
    )
    return True
