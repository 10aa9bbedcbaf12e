"""How a login moves from password to signed in.

After a correct password the browser holds a *pending login*, one object in the session:
whose login it is, which second step it waits for, a nonce that binds emailed links to this
browser, when it started, and where to go afterwards. It is not a session of the user: the
user is signed in only by ``pending_login_complete``, after the second step.

    password ok --pending_login_start--> [email-link | code] --pending_login_complete--> signed in
                                     \\--- expires after TWOFACTOR_PENDING_LOGIN_MINUTES ---/
"""

from __future__ import annotations

import functools
import secrets
import time
from dataclasses import asdict, dataclass
from enum import Enum

from django.conf import settings
from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from accounts.models import User
from security.events import Kind, event_build, events_save
from security.models import SecurityEvent
from security.services import recovery_codes_unused_subquery

PENDING_LOGIN_SESSION_KEY = "twofactor_pending_login"
# When the session was signed in (absolute lifetime) and last proved its owner (re-auth).
SIGNED_IN_AT_SESSION_KEY = "twofactor_signed_in_at"
VERIFIED_AT_SESSION_KEY = "twofactor_verified_at"


class Stage(str, Enum):
    EMAIL_LINK = "email-link"
    CODE = "code"


@dataclass(frozen=True)
class PendingLogin:
    user_id: int
    stage: str
    nonce: str
    started: float
    next_url: str
    # The user's session auth hash when the password was checked: it covers the password and
    # the security stamp, so a password reset or a factor change since then voids this login.
    auth_hash: str

    def is_expired(self, now: float | None = None) -> bool:
        now = time.time() if now is None else now
        return now - self.started > settings.TWOFACTOR_PENDING_LOGIN_MINUTES * 60

    def is_still_for(self, user: User) -> bool:
        """Nothing about ``user``'s credentials changed since the password step."""
        return user.pk == self.user_id and constant_time_compare(
            self.auth_hash, user.get_session_auth_hash()
        )

    @property
    def step_url_name(self) -> str:
        return "accounts:login-code" if self.stage == Stage.CODE else "accounts:login-email-sent"


def safe_next(request: HttpRequest, candidate: str | None) -> str:
    """``candidate`` when it stays on this site, else the empty string."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def pending_login_start(
    request: HttpRequest, *, user: User, stage: Stage, next_url: str
) -> PendingLogin:
    """Begin the second step for ``user`` in this browser. Rotates the session key, so a
    session id planted before the password was entered is worthless."""
    request.session.flush()  # a new key and nothing carried over from before the password
    pending = PendingLogin(
        user_id=user.pk,
        stage=stage.value,
        nonce=secrets.token_urlsafe(32),
        started=time.time(),
        next_url=safe_next(request, next_url),
        auth_hash=user.get_session_auth_hash(),
    )
    request.session[PENDING_LOGIN_SESSION_KEY] = asdict(pending)
    return pending


def pending_login_get(request: HttpRequest) -> PendingLogin | None:
    data = request.session.get(PENDING_LOGIN_SESSION_KEY)
    if not isinstance(data, dict):
        return None
    try:
        return PendingLogin(**data)
    except TypeError:
        return None


def pending_login_clear(request: HttpRequest) -> None:
    request.session.pop(PENDING_LOGIN_SESSION_KEY, None)


def pending_login_void(request: HttpRequest) -> HttpResponse:
    """The member's password or factors changed (or they were removed) after this browser
    entered the password: that password step no longer counts."""
    pending_login_clear(request)
    messages.warning(
        request,
        _("Your sign-in security changed since you entered your password. Please sign in again."),
    )
    return redirect("accounts:login")


def pending_login_complete(
    request: HttpRequest, *, user: User, method: str, events: tuple[SecurityEvent, ...] = ()
) -> HttpResponse:
    """Sign ``user`` in after the second step: rotates the session key again, records the
    sign-in (with ``events`` the second step produced, in one INSERT), and redirects to the
    pending login's ``next`` if it is still safe."""
    pending = pending_login_get(request)
    next_url = safe_next(request, pending.next_url if pending else "")
    pending_login_clear(request)
    auth.login(request, user, backend="accounts.backends.EmailBackend")  # cycles the key
    now = time.time()
    request.session[SIGNED_IN_AT_SESSION_KEY] = now
    request.session[VERIFIED_AT_SESSION_KEY] = now
    events_save(*events, event_build(kind=Kind.SIGN_IN, request=request, user=user, method=method))
    return redirect(next_url or settings.LOGIN_REDIRECT_URL)


def pending_login_required(stage: Stage):
    """Guard a second-step view: the browser must hold an unexpired pending login waiting for
    ``stage``. The view gets ``request.pending_login`` and ``request.pending_user``."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            pending = pending_login_get(request)
            if pending is None:
                messages.info(request, _("Sign in with your email and password first."))
                return redirect("accounts:login")
            if pending.is_expired():
                pending_login_clear(request)
                messages.warning(request, _("Your sign-in took too long. Please start again."))
                return redirect("accounts:login")
            if pending.stage != stage.value:
                return redirect(pending.step_url_name)
            users = User.objects.select_related("account", "totp_device")
            if stage == Stage.CODE:
                # The authenticator device and the count of unused recovery codes come along:
                # the code step then needs no query of its own for either (its budget is 5).
                users = users.annotate(recovery_codes_unused=recovery_codes_unused_subquery())
            user = users.filter(pk=pending.user_id, is_active=True).first()
            if user is None or not pending.is_still_for(user):
                return pending_login_void(request)
            request.pending_login = pending
            request.pending_user = user
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
