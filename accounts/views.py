"""Signing in: the password, then the second step accounts.stages names (the emailed link
is the login's own; a factor's step is its own view); signing out; the home page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import stages, tokens
from accounts.forms import LoginForm
from accounts.known_browsers import attempt_from_known_browser, login_attempt_key
from accounts.login_flow import (
    TRUSTED_BROWSER_METHOD,
    pending_login_clear,
    pending_login_complete,
    pending_login_get,
    pending_login_start,
    pending_login_switch,
    pending_login_void,
    pending_user_key,
    pending_user_load,
)
from accounts.models import User
from accounts.sign_in_links import (
    LinkState,
    sign_in_link_check,
    sign_in_link_consume,
    sign_in_link_email_status,
    sign_in_link_send,
    sign_in_link_usable,
)
from accounts.sso import services as sso_services
from accounts.sso.views import sso_redirect
from accounts.trusted_browsers import cookie_present, trusted_browser_use
from security import lockout
from security.events import Audit, Kind, event_record
from twofactor_site.mail.models import OutgoingEmail
from twofactor_site.net import requested_next
from twofactor_site.ratelimits import client_ip_key, rate, ratelimit

# The digest of the opened link's token: the token itself is never stored, not even in the
# session (SECURITY.md: only a hash of anything secret is kept server-side).
LINK_TOKEN_SESSION_KEY = "twofactor_link_token_digest"
LINK_TOKEN_MAX_LENGTH = 100


@require_http_methods(["GET", "HEAD", "POST"])
@sensitive_post_parameters("password")
@never_cache
@ratelimit(group="login-ip", key=client_ip_key, rate=rate("RATELIMIT_LOGIN_IP"), method="POST")
@ratelimit(
    group="login-email", key=login_attempt_key, rate=rate("RATELIMIT_LOGIN_EMAIL"), method="POST"
)
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = requested_next(request)
    if request.user.is_authenticated:
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    form = LoginForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        email, password = form.cleaned_data["email"], form.cleaned_data["password"]
        user = auth.authenticate(request, email=email, password=password)
        if user is not None:
            return _second_step_begin(request, user=user, next_url=next_url)
        known = User.objects.select_related("account").filter(email=email).first()
        event_record(
            kind=Kind.PASSWORD_FAILED,
            audit=Audit.of(request),
            user=known,
            email=email,
            known_browser=attempt_from_known_browser(request, email),
        )
        # An address of a team's SSO domain: whoever it is (an SSO member, nobody, a wrong
        # password), the answer is that team's provider, so it tells nothing about members.
        sso_connection = sso_services.connection_for_email(email)
        if sso_connection is not None:
            return sso_redirect(request, connection=sso_connection, email=email, next_url=next_url)
        form.add_error(None, _("That email and password don't match. Check both and try again."))
    status = 400 if form.errors else 200
    return render(request, "accounts/login.html", {"form": form, "next": next_url}, status=status)


def _second_step_begin(request: HttpRequest, *, user: User, next_url: str) -> HttpResponse:
    trust_days = stages.trust_days_for(user, account=user.account)
    if trust_days and _trusted_here(request, user=user):
        pending_login_start(request, user=user, stage=TRUSTED_BROWSER_METHOD, next_url=next_url)
        return pending_login_complete(request, user=user, method=TRUSTED_BROWSER_METHOD)
    step = stages.step_for(user)
    pending = pending_login_start(
        request,
        user=user,
        stage=step.key,
        next_url=next_url,
        trust_days=trust_days,
        steps=tuple(s.key for s in stages.steps_of(user)),
    )
    if step is stages.EMAIL_LINK:
        sign_in_link_send(user=user, pending=pending, audit=Audit.of(request))
    return redirect(step.url_name)


def _trusted_here(request: HttpRequest, *, user: User) -> bool:
    """This browser holds a live trust of ``user`` and their second step is not locked: a
    trust never opens a locked step (the member goes to it and sees the lock)."""
    if not cookie_present(request) or lockout.is_locked(user):
        return False
    return trusted_browser_use(request, user=user, account=user.account)


# Seconds between reloads of "Check your email" while its email is on its way (no script).
EMAIL_STATUS_REFRESH = {OutgoingEmail.Status.QUEUED: 2, OutgoingEmail.Status.RETRYING: 15}


@require_safe
@never_cache
@stages.step_required(stages.EMAIL_LINK.key)
def login_email_sent(request: HttpRequest) -> HttpResponse:
    """Says where the newest link's email stands: on its way, sent, being retried (the mail
    server did not take it yet) or failed; it reloads itself until the answer is final."""
    status = sign_in_link_email_status(user=request.pending_user)
    return render(
        request,
        "accounts/login_email_sent.html",
        {
            "email": request.pending_user.email,
            "minutes": settings.TWOFACTOR_EMAIL_LINK_MINUTES,
            "status": status,
            "refresh": EMAIL_STATUS_REFRESH.get(status),
            "support_email": settings.SUPPORT_EMAIL,
        },
    )


def last_link_note(request: HttpRequest) -> str:
    """For the 429 page of a refused resend: the link sent last still works, when it does."""
    link = sign_in_link_usable(pending=pending_login_get(request))
    if link is None:
        return ""
    return _("The last link we sent still works until %(time)s UTC: open it in this browser.") % {
        "time": link.expires_at.strftime("%H:%M")
    }


@require_POST
@never_cache
@ratelimit(
    group="resend-ip", key=client_ip_key, rate=rate("RATELIMIT_RESEND_IP"), note=last_link_note
)
@ratelimit(
    group="resend-user", key=pending_user_key, rate=rate("RATELIMIT_RESEND"), note=last_link_note
)
@stages.step_required(stages.EMAIL_LINK.key)
def login_resend(request: HttpRequest) -> HttpResponse:
    sign_in_link_send(
        user=request.pending_user, pending=request.pending_login, audit=Audit.of(request)
    )
    messages.success(request, _("We sent a new link. Links sent earlier no longer work."))
    return redirect("accounts:login-email-sent")


@require_POST
def login_switch(request: HttpRequest) -> HttpResponse:
    """ "Use a recovery code instead": the pending login moves to another of the member's ways
    in (``step``, a key of accounts.stages), never to one they lack."""
    pending = pending_login_get(request)
    if pending is None or pending.is_expired():
        return redirect("accounts:login")
    user = pending_user_load(pending)
    if user is None or not pending.is_still_for(user):
        return pending_login_void(request)
    step = stages.step_get(request.POST.get("step", ""))
    if step is None or step not in stages.ways_of(user):
        return redirect(stages.step_url_name(pending))
    pending_login_switch(request, stage=step.key)
    return redirect(step.url_name)


@require_POST
def login_cancel(request: HttpRequest) -> HttpResponse:
    """ "Use another account": drop the pending login and start over."""
    pending_login_clear(request)
    request.session.pop(LINK_TOKEN_SESSION_KEY, None)
    return redirect("accounts:login")


@require_safe
@never_cache
def login_link_token(request: HttpRequest, token: str) -> HttpResponse:
    """Move the token out of the URL into this browser's session, then show the page without
    it, so the address bar, history and any Referer never carry it."""
    if len(token) > LINK_TOKEN_MAX_LENGTH:
        raise Http404
    request.session[LINK_TOKEN_SESSION_KEY] = tokens.digest(token)
    return redirect("accounts:login-link")


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def login_link(request: HttpRequest) -> HttpResponse:
    """GET shows what the link will do; only the POST of its button signs in, so a mail
    scanner that opens the link uses nothing up."""
    if request.user.is_authenticated:
        request.session.pop(LINK_TOKEN_SESSION_KEY, None)
        return redirect(settings.LOGIN_REDIRECT_URL)
    token_digest = request.session.get(LINK_TOKEN_SESSION_KEY, "")
    pending = pending_login_get(request)
    check = sign_in_link_check(token_digest=token_digest, pending=pending) if token_digest else None
    state = check.state if check else LinkState.UNKNOWN
    if state not in (LinkState.OTHER_BROWSER, LinkState.UNKNOWN) and pending.is_expired():
        # The right browser, too late: say so, rather than "open it in the same browser".
        state = LinkState.EXPIRED
    if state == LinkState.VALID and request.method == "POST":
        user = pending_user_load(pending)
        if user is None or not pending.is_still_for(user):
            return pending_login_void(request)
        if sign_in_link_consume(token_digest=token_digest, pending=pending):
            request.session.pop(LINK_TOKEN_SESSION_KEY, None)
            trust = stages.trust_requested(request)
            return stages.step_passed(request, user=user, method="email_link", trust=trust)
        state = LinkState.USED
    if state == LinkState.OTHER_BROWSER and request.method == "GET":
        event_record(kind=Kind.LINK_OTHER_BROWSER, audit=Audit.of(request), user=check.link.user)
    status = {LinkState.VALID: 200, LinkState.OTHER_BROWSER: 403, LinkState.UNKNOWN: 404}.get(
        state, 410
    )
    context = {"state": state.value, "trust_days": pending.trust_days if pending else 0}
    response = render(request, "accounts/login_link.html", context, status=status)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        event_record(kind=Kind.SIGN_OUT, audit=Audit.of(request), user=request.user)
    auth.logout(request)  # flushes the session in the store, not just the cookie
    messages.info(request, _("You're signed out."))
    return redirect("accounts:login")


@require_safe
@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/home.html")
