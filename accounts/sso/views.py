"""Signing in with SSO (/login/sso/, the provider's callback), the Security page's SSO section,
and switching a member to SSO on Team Members."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.decorators import account_admin_required, team_member_page
from accounts.models import User, normalize_email
from accounts.presence import presence_proved
from accounts.sso import oidc, services
from accounts.sso.flow import (
    SSOLogin,
    sso_login_begin,
    sso_login_complete,
    sso_login_get,
    sso_login_take,
)
from accounts.sso.forms import ConnectionForm, DomainForm, SSOEmailForm
from accounts.sso.models import Connection, Domain
from accounts.sso.templatetags.sso import security_section_context
from security.decorators import recent_auth_required
from security.events import Audit, Kind, event_record
from twofactor_site.net import requested_next, safe_next
from twofactor_site.ratelimits import client_ip_key, rate, ratelimit

# OAuth error codes are ASCII words (RFC 6749 4.1.2.1); anything else is not repeated back.
OAUTH_ERROR_CODE = re.compile(r"^[a-z_]{1,64}$")
NOT_ROUTED = _("Your team doesn't use single sign-on with us; sign in with your password.")


# --- Signing in -------------------------------------------------------------------------------


def sso_redirect(
    request: HttpRequest,
    *,
    connection: Connection,
    email: str,
    next_url: str,
    reauth_user: User | None = None,
):
    """Send this browser on to ``connection``'s provider. The answer to a form is a redirect
    to our own /login/sso/continue/, which hands over to the provider (the CSP's
    ``form-action 'self'`` would block a form's redirect to another origin)."""
    try:
        sso_login_begin(
            request,
            connection=connection,
            email=email,
            next_url=next_url,
            reauth_user=reauth_user,
        )
    except oidc.ProviderError as error:
        return _problem(request, error=error, issuer=connection.issuer, account=connection.account)
    return redirect("sso:continue")


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@ratelimit(group="sso-ip", key=client_ip_key, rate=rate("RATELIMIT_SSO_IP"), method="POST")
def login_sso(request: HttpRequest) -> HttpResponse:
    next_url = requested_next(request)
    if request.user.is_authenticated:
        return redirect(next_url or settings.LOGIN_REDIRECT_URL)
    form = SSOEmailForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        connection = services.connection_for_email(email)
        if connection is not None:
            return sso_redirect(request, connection=connection, email=email, next_url=next_url)
        form.add_error("email", NOT_ROUTED)
    status = 400 if form.errors else 200
    return render(request, "sso/login.html", {"form": form, "next": next_url}, status=status)


@require_safe
@never_cache
def login_sso_continue(request: HttpRequest) -> HttpResponse:
    """A page of our own that moves on to the provider at once (and offers a link)."""
    login = sso_login_get(request)
    if login is None or login.is_expired():
        messages.info(request, _("Enter your work email to sign in with single sign-on."))
        return redirect("sso:login")
    response = render(request, "sso/continue.html", {"url": login.authorization_url})
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@require_safe
@never_cache
@ratelimit(group="sso-ip", key=client_ip_key, rate=rate("RATELIMIT_SSO_IP"))
def login_sso_callback(request: HttpRequest) -> HttpResponse:
    """The provider sends the browser back here with ``code`` and ``state`` (or ``error``)."""
    login = sso_login_take(request, state=request.GET.get("state", ""))
    if login is None:
        return _problem(request, reason="state", status=400)
    if login.is_expired():
        return _problem(request, reason="expired", status=400, login=login)
    if request.GET.get("iss", login.issuer) != login.issuer:  # RFC 9207: a mixed-up provider
        return _problem(request, reason="issuer-mismatch", status=400, login=login)
    error = request.GET.get("error", "")
    if error:
        code = error if OAUTH_ERROR_CODE.match(error) else "error"
        return _problem(request, reason=f"provider-{code}", status=403, login=login)
    connection = (
        Connection.objects.select_related("account")
        .filter(account_id=login.account_id, issuer=login.issuer, enabled=True)
        .first()
    )
    code = request.GET.get("code", "")
    if connection is None or not code or len(code) > 4096:
        return _problem(
            request, reason="no-code" if connection else "sso-off", status=400, login=login
        )
    try:
        tokens = oidc.code_exchange(
            issuer=connection.issuer,
            client_id=connection.client_id,
            client_secret=services.client_secret(connection),
            redirect_uri=services.redirect_uri(),
            code=code,
            code_verifier=login.code_verifier,
        )
        identity = oidc.identity_from_tokens(
            issuer=connection.issuer,
            client_id=connection.client_id,
            nonce=login.nonce,
            token=tokens,
        )
    except oidc.ProviderError as error:
        return _problem(request, error=error, login=login, account=connection.account)
    try:
        user = services.member_for_identity(
            audit=Audit.of(request), connection=connection, identity=identity
        )
    except services.SignInRefused as refused:
        return _problem(
            request,
            reason=refused.reason,
            status=403,
            login=login,
            account=connection.account,
            email=identity.email,
            message=refused.message,
        )
    if login.reauth_user_id is not None:
        return _reauth_finish(request, user=user, login=login, account=connection.account)
    return sso_login_complete(request, user=user, login=login)


def _reauth_finish(request: HttpRequest, *, user: User, login: SSOLogin, account) -> HttpResponse:
    """A signed-in SSO member confirmed it's them at their provider: presence proved, the
    session goes on. The provider must have signed in that same member."""
    if not (request.user.is_authenticated and request.user.pk == login.reauth_user_id == user.pk):
        return _problem(
            request,
            reason="reauth-someone-else",
            status=403,
            login=login,
            account=account,
            message=_("Your identity provider signed in someone else. Nothing was changed."),
        )
    presence_proved(request)
    return redirect(login.next_url or "security:personal")


@require_POST
@never_cache
@login_required
@ratelimit(group="sso-ip", key=client_ip_key, rate=rate("RATELIMIT_SSO_IP"))
def login_sso_reauth(request: HttpRequest) -> HttpResponse:
    """ "Confirm with single sign-on" on the re-auth page, for members who have no password
    or code here."""
    user = request.user
    next_url = safe_next(request, request.POST.get("next"))
    connection = services.connection_for_email(user.email) if user.is_sso else None
    if connection is None or connection.account_id != user.account_id:
        messages.error(request, _("Single sign-on isn't available for your account right now."))
        return redirect("security:reauth")
    return sso_redirect(
        request, connection=connection, email=user.email, next_url=next_url, reauth_user=user
    )


# The SSO settings change how members sign in: a stolen session cookie alone must not point
# the team at another provider. After the proof, back to the Security page (these views answer
# POSTs only).
presence_required = recent_auth_required(back_to="security:security")


_TITLES = {
    "state": (
        _("That sign-in can't be finished here"),
        _(
            "The answer from your identity provider doesn't belong to a sign-in started in this "
            "browser, or it was used already. Start again from the sign-in page."
        ),
    ),
    "expired": (_("Your sign-in took too long"), _("Start again from the sign-in page.")),
    "sso-off": (
        _("Single sign-on is off"),
        _(
            "Your team turned single sign-on off while you were signing in. Sign in with your "
            "password, or ask an Account Admin."
        ),
    ),
}
_PROVIDER_TEXT = {
    oidc.ProviderUnavailable: (
        _("We couldn't reach your identity provider"),
        _(
            "It didn't answer, or didn't answer in time. Try again in a minute; if it keeps "
            "happening, tell your team's Account Admin."
        ),
    ),
    oidc.ProviderRefused: (
        _("Your identity provider refused this sign-in"),
        _("The sign-in was used already or took too long. Start again from the sign-in page."),
    ),
    oidc.TokenInvalid: (
        _("We couldn't check your identity provider's answer"),
        _(
            "It wasn't signed or addressed as we expect, so nobody was signed in. Start again; if "
            "it keeps happening, your Account Admin should check the single sign-on settings."
        ),
    ),
}


def _problem(
    request: HttpRequest,
    *,
    reason: str = "",
    status: int = 400,
    error: oidc.ProviderError | None = None,
    login: SSOLogin | None = None,
    issuer: str = "",
    account=None,
    email: str = "",
    message: str = "",
) -> HttpResponse:
    """A clear page for a sign-in that did not happen (nobody is signed in), recorded."""
    if error is not None:
        reason = error.reason
        status = 502 if isinstance(error, oidc.ProviderUnavailable) else 400
        title, text = next(
            (texts for kind, texts in _PROVIDER_TEXT.items() if isinstance(error, kind)),
            (
                _("Single sign-on isn't set up right"),
                _(
                    "Your identity provider's settings don't work with us yet. Tell your team's "
                    "Account Admin (they can use Test connection on the Security page)."
                ),
            ),
        )
    elif reason.startswith("provider-"):
        title = _("Your identity provider didn't sign you in")
        text = _("It answered: %(code)s. Start again, or ask your IT team.") % {
            "code": reason.removeprefix("provider-")
        }
    elif message:
        title, text = _("We can't sign you in with single sign-on"), message
    else:
        title, text = _TITLES.get(reason, _TITLES["state"])
    known = User.objects.filter(email=normalize_email(email)).first() if email else None
    event_record(
        kind=Kind.SSO_REFUSED,
        audit=Audit.of(request),
        user=known,
        email=email,
        account=account,
        reason=reason,
        issuer=issuer or (login.issuer if login else ""),
    )
    context = {"title": title, "message": text}
    return render(request, "sso/problem.html", context, status=status)


# --- The Security page's section (Account Admins) ---------------------------------------------


def _settings_page(request: HttpRequest, *, form=None, domain_form=None, status=400):
    """The section alone, with the form that needs fixing."""
    context = security_section_context(request, form=form, domain_form=domain_form)
    context["nav"] = "security"
    return render(request, "sso/settings.html", context, status=status)


@require_POST
@login_required
@account_admin_required
@presence_required
def connection_save(request: HttpRequest) -> HttpResponse:
    account = request.user.account
    form = ConnectionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.connection_save(
                audit=Audit.of(request),
                account=account,
                by=request.user,
                issuer=data["issuer"],
                client_id=data["client_id"],
                secret=data["client_secret"] or None,
                enabled=data["enabled"],
                jit_provisioning=data["jit_provisioning"],
            )
        except services.SSOError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Single sign-on settings saved."))
            return redirect("security:security")
    return _settings_page(request, form=form)


@require_POST
@login_required
@account_admin_required
def connection_test(request: HttpRequest) -> HttpResponse:
    connection = Connection.objects.filter(account=request.user.account).first()
    if connection is None:
        messages.error(request, _("Save the issuer and client ID first."))
        return redirect("security:security")
    try:
        report = oidc.connection_test(
            connection.issuer,
            client_id=connection.client_id,
            client_secret=services.client_secret(connection),
            redirect_uri=services.redirect_uri(),
        )
    except oidc.ProviderError as error:
        messages.error(
            request,
            _("The connection test failed (%(reason)s%(detail)s). Check the issuer URL.")
            % {"reason": error.reason, "detail": f": {error.detail}" if error.detail else ""},
        )
    else:
        messages.success(
            request,
            _(
                "Connected to %(issuer)s: sign-in at %(auth)s, tokens at %(token)s, "
                "%(keys)d signing key(s)%(algs)s."
            )
            % {
                "issuer": report.issuer,
                "auth": report.authorization_endpoint,
                "token": report.token_endpoint,
                "keys": report.key_count,
                "algs": f" ({', '.join(report.algorithms)})" if report.algorithms else "",
            },
        )
        if report.client_accepted:
            messages.success(request, _("The provider accepted the client ID and secret."))
        elif report.client_accepted is False:
            messages.error(
                request,
                _("The provider refused the client ID or secret (%(error)s). Check both.")
                % {"error": report.client_error},
            )
        elif connection.has_secret:
            messages.warning(
                request,
                _(
                    "We couldn't tell whether the provider accepts the client ID and secret "
                    "(%(error)s)."
                )
                % {"error": report.client_error or "no answer"},
            )
    return redirect("security:security")


@require_POST
@login_required
@account_admin_required
@presence_required
def domain_add(request: HttpRequest) -> HttpResponse:
    form = DomainForm(request.POST)
    if form.is_valid():
        try:
            claim = services.domain_add(
                audit=Audit.of(request),
                account=request.user.account,
                by=request.user,
                domain=form.cleaned_data["domain"],
            )
        except services.SSOError as error:
            form.add_error("domain", str(error))
        else:
            messages.success(
                request,
                _("Add the TXT record shown for %(domain)s at your DNS host, then choose Verify.")
                % {"domain": claim.domain},
            )
            return redirect("security:security")
    return _settings_page(request, domain_form=form)


@require_POST
@login_required
@account_admin_required
def domain_verify(request: HttpRequest, domain_id: int) -> HttpResponse:
    claim = get_object_or_404(Domain, pk=domain_id, account=request.user.account)
    try:
        verified = services.domain_verify(audit=Audit.of(request), claim=claim, by=request.user)
    except services.SSOError as error:
        messages.error(request, str(error))
    else:
        if verified:
            messages.success(request, _("%(domain)s is verified.") % {"domain": claim.domain})
        else:
            messages.error(
                request,
                _(
                    "We didn't find the TXT record %(value)s at %(domain)s yet. DNS changes can "
                    "take a while to show; try again later."
                )
                % {"value": claim.txt_value, "domain": claim.domain},
            )
    return redirect("security:security")


@require_POST
@login_required
@account_admin_required
@presence_required
def domain_remove(request: HttpRequest, domain_id: int) -> HttpResponse:
    claim = get_object_or_404(Domain, pk=domain_id, account=request.user.account)
    services.domain_remove(audit=Audit.of(request), claim=claim, by=request.user)
    messages.success(request, _("%(domain)s was removed.") % {"domain": claim.domain})
    return redirect("security:security")


# --- Team Members: switch a member to SSO -----------------------------------------------------


@team_member_page
def member_convert(request: HttpRequest, member: User) -> HttpResponse:
    problem = None
    if member.is_sso:
        problem = _("%(email)s already signs in with single sign-on.")
    elif member.pk == request.user.pk:
        problem = _("You can't switch your own account. Ask another Account Admin to do it.")
    elif getattr(services.connection_for_email(member.email), "account_id", None) != (
        member.account_id
    ):
        problem = _(
            "%(email)s isn't at a verified domain of your team with single sign-on on, so they "
            "couldn't sign in. Set that up on the Security page first."
        )
    if problem:
        messages.error(request, problem % {"email": member.email})
        return redirect("accounts:team")
    if request.method == "POST":
        services.member_convert_to_sso(audit=Audit.of(request), member=member, by=request.user)
        messages.success(
            request,
            _("%(email)s now signs in with single sign-on.") % {"email": member.email},
        )
        return redirect("accounts:team")
    return render(request, "sso/convert.html", {"member": member, "nav": "team"})
