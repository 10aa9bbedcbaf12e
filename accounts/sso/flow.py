"""The browser's side of an SSO sign-in.

    email of a verified domain --sso_login_begin--> provider --callback--> sso_login_take
        (state, nonce, PKCE verifier kept in this browser's session)   (single use) --> signed in

What ``sso_login_begin`` keeps in the session is the only place the state, nonce and code
verifier live: the callback is accepted only in the browser that began it, and only once
(the session entry is removed, and a cache entry claims the state against a parallel
request of the same session).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

from django.conf import settings
from django.contrib import auth
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.models import User
from accounts.presence import signed_in_now
from accounts.sso import oidc
from accounts.sso.models import Connection
from accounts.sso.services import redirect_uri
from security.events import Audit, Kind, event_build, events_save
from security.models import SecurityEvent
from twofactor_site.net import safe_next

SSO_LOGIN_SESSION_KEY = "twofactor_sso_login"


@dataclass(frozen=True)
class SSOLogin:
    account_id: int
    issuer: str
    state: str
    nonce: str
    code_verifier: str
    authorization_url: str
    started: float
    next_url: str
    # Set when a signed-in SSO member confirms it's them (re-auth) rather than signs in.
    reauth_user_id: int | None = None

    def is_expired(self, now: float | None = None) -> bool:
        # As long as a password-checked login may wait for its second step.
        now = timezone.now().timestamp() if now is None else now
        return now - self.started > settings.TWOFACTOR_PENDING_LOGIN_MINUTES * 60


def sso_login_begin(
    request: HttpRequest,
    *,
    connection: Connection,
    email: str,
    next_url: str,
    reauth_user: User | None = None,
) -> SSOLogin:
    """Prepare the authorization request for ``connection`` and remember it in this browser's
    session (replacing an earlier one). With ``reauth_user`` the provider is asked to sign
    them in afresh (``prompt=login``) to prove presence. Raises oidc.ProviderError when
    discovery fails."""
    authorization = oidc.authorization_begin(
        issuer=connection.issuer,
        client_id=connection.client_id,
        redirect_uri=redirect_uri(),
        login_hint=email,
        fresh=reauth_user is not None,
    )
    login = SSOLogin(
        account_id=connection.account_id,
        issuer=connection.issuer,
        state=authorization.state,
        nonce=authorization.nonce,
        code_verifier=authorization.code_verifier,
        authorization_url=authorization.url,
        started=timezone.now().timestamp(),
        next_url=safe_next(request, next_url),
        reauth_user_id=reauth_user.pk if reauth_user is not None else None,
    )
    request.session[SSO_LOGIN_SESSION_KEY] = asdict(login)
    return login


def sso_login_get(request: HttpRequest) -> SSOLogin | None:
    data = request.session.get(SSO_LOGIN_SESSION_KEY)
    if not isinstance(data, dict):
        return None
    try:
        return SSOLogin(**data)
    except TypeError:
        return None


def sso_login_take(request: HttpRequest, *, state: str) -> SSOLogin | None:
    """The sign-in this browser began with ``state``, removed from the session so it serves
    once; None when there is none, the state differs, or another request took it first."""
    login = sso_login_get(request)
    request.session.pop(SSO_LOGIN_SESSION_KEY, None)
    if login is None or not state or not constant_time_compare(login.state, state):
        return None
    claim = "sso:state-used:" + hashlib.sha256(login.state.encode()).hexdigest()
    if not cache.add(claim, 1, timeout=settings.TWOFACTOR_PENDING_LOGIN_MINUTES * 60 + 60):
        return None
    return login


def sso_login_complete(
    request: HttpRequest,
    *,
    user: User,
    login: SSOLogin,
    events: tuple[SecurityEvent, ...] = (),
) -> HttpResponse:
    """Sign ``user`` in: the provider was their whole sign-in (SSO members skip our second
    step). A new session key; the sign-in recorded with the issuer."""
    next_url = safe_next(request, login.next_url)
    request.session.flush()  # nothing from before the provider's answer carries over
    auth.login(request, user, backend="accounts.backends.EmailBackend")
    signed_in_now(request)
    events_save(
        *events,
        event_build(
            kind=Kind.SIGN_IN,
            audit=Audit.of(request),
            user=user,
            actor=user,
            method="sso",
            issuer=login.issuer,
        ),
    )
    return redirect(next_url or settings.LOGIN_REDIRECT_URL)
