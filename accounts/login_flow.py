"""How a login moves from password to signed in.

After a correct password the browser holds a *pending login*, one object in the session:
whose login it is, which second step it waits for, a nonce that binds emailed links to this
browser, when it started, and where to go afterwards. It is not a session of the user: the
user is signed in only by ``pending_login_complete``, after the second step.

    password ok --pending_login_start--> [a second step] --pending_login_complete--> signed in
                                     \\--- expires after TWOFACTOR_PENDING_LOGIN_MINUTES ---/

Which second steps exist, and which one a member takes, is accounts.stages' business: the
pending login only stores the key of the step it waits for.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, replace

from django.conf import settings
from django.contrib import auth, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from accounts.known_browsers import browser_is_known, browser_remember
from accounts.models import User
from accounts.presence import signed_in_now
from accounts.sign_in_notices import sign_in_notices
from accounts.trusted_browsers import trusted_browser_add
from security.events import Audit, Kind, event_build, events_save
from security.models import SecurityEvent
from twofactor_site.net import safe_next

PENDING_LOGIN_SESSION_KEY = "twofactor_pending_login"


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
    # For how many days this browser may be trusted at the second step (0: not offered), as
    # the team and the member's factors allowed at the password step; checked again before a
    # trust is made (accounts.stages.trust_days_for).
    trust_days: int = 0
    # The keys of the member's second steps at the password step (accounts.stages.steps_of),
    # for the step pages' "Use … instead": any change to their factors since voids this login
    # (as above). Only what a page shows; a switch asks again. None: not recorded.
    steps: tuple[str, ...] | None = None

    def is_expired(self, now: float | None = None) -> bool:
        now = timezone.now().timestamp() if now is None else now
        return now - self.started > settings.TWOFACTOR_PENDING_LOGIN_MINUTES * 60

    def is_still_for(self, user: User) -> bool:
        """Nothing about ``user``'s credentials changed since the password step."""
        return user.pk == self.user_id and constant_time_compare(
            self.auth_hash, user.get_session_auth_hash()
        )


def pending_login_start(
    request: HttpRequest,
    *,
    user: User,
    stage: str,
    next_url: str,
    trust_days: int = 0,
    steps: tuple[str, ...] | None = None,
) -> PendingLogin:
    """Begin the second step for ``user`` in this browser. Rotates the session key, so a
    session id planted before the password was entered is worthless."""
    request.session.flush()  # a new key and nothing carried over from before the password
    pending = PendingLogin(
        user_id=user.pk,
        stage=stage,
        nonce=secrets.token_urlsafe(32),
        started=timezone.now().timestamp(),
        next_url=safe_next(request, next_url),
        auth_hash=user.get_session_auth_hash(),
        trust_days=trust_days,
        steps=steps,
    )
    request.session[PENDING_LOGIN_SESSION_KEY] = asdict(pending)
    return pending


def pending_login_get(request: HttpRequest) -> PendingLogin | None:
    data = request.session.get(PENDING_LOGIN_SESSION_KEY)
    if not isinstance(data, dict):
        return None
    try:
        pending = PendingLogin(**data)
    except TypeError:
        return None
    if isinstance(pending.steps, list):  # stored as a list (the session is JSON)
        pending = replace(pending, steps=tuple(pending.steps))
    return pending


def active_member_load(user_id: int, users: QuerySet[User] | None = None) -> User | None:
    """The member if still active, with their team (what a completed sign-in tells them
    names it): one lookup by primary key (in ``users`` when a step's loader added to it), or
    None."""
    users = users if users is not None else User.objects.select_related("account")
    try:
        return users.get(pk=user_id, is_active=True)
    except User.DoesNotExist:
        return None


def pending_user_load(pending: PendingLogin) -> User | None:
    """The pending login's member if still active, or None."""
    return active_member_load(pending.user_id)


def pending_login_switch(request: HttpRequest, *, stage: str) -> None:
    """The pending login now waits for the member's other second step ``stage`` (the caller
    checked that the member has it). Nothing else changes: not its nonce, not its clock."""
    data = dict(request.session[PENDING_LOGIN_SESSION_KEY])
    data["stage"] = stage
    request.session[PENDING_LOGIN_SESSION_KEY] = data


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


# The sign-in method of a browser the member trusted: no second step was taken.
TRUSTED_BROWSER_METHOD = "trusted_browser"


def pending_login_complete(
    request: HttpRequest,
    *,
    user: User,
    method: str,
    events: tuple[SecurityEvent, ...] = (),
    trust_days: int = 0,
) -> HttpResponse:
    """Sign ``user`` in after the second step: rotates the session key again, records the
    sign-in (with ``events`` the second step produced, in one INSERT), trusts this browser for
    ``trust_days`` when not 0, and redirects to the pending login's ``next`` if it is still
    safe. With ``method`` TRUSTED_BROWSER_METHOD no second step was taken: a run of wrong
    codes goes on counting (accounts.signals)."""
    pending = pending_login_get(request)
    next_url = safe_next(request, pending.next_url if pending else "")
    pending_login_clear(request)
    known, last_login = browser_is_known(request, user), user.last_login
    user.second_step_skipped = method == TRUSTED_BROWSER_METHOD
    auth.login(request, user, backend="accounts.backends.EmailBackend")  # cycles the key
    signed_in_now(request)
    signed_in = event_build(
        kind=Kind.SIGN_IN, audit=Audit.of(request), user=user, actor=user, method=method
    )
    notices = sign_in_notices(request, user=user, known_browser=known, last_login=last_login)
    response = redirect(next_url or settings.LOGIN_REDIRECT_URL)
    if trust_days:
        events = (*events, trusted_browser_add(request, response, user=user, days=trust_days))
    events_save(*events, signed_in, *notices)
    browser_remember(request, response, user=user)
    return response


def pending_user_key(group: str, request: HttpRequest) -> str:
    """django-ratelimit key: the member of this browser's pending login."""
    pending = pending_login_get(request)
    return f"user:{pending.user_id}" if pending else "no-pending-login"
