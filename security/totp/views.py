"""The authenticator app: enrollment, its settings page, removal, and its sign-in step."""

from __future__ import annotations

import functools

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_safe

from accounts import stages
from accounts.presence import presence_carry, presence_carry_end, session_reattach
from security.decorators import (
    TOTP_ENROLLMENT_FLOW,
    active_app_required,
    enrolling,
    recent_auth_required,
)
from security.events import Audit
from security.forms import SecondFactorCodeForm
from security.policy import removal_allowed, requirement_applies
from security.recovery_codes.services import recovery_codes_remaining
from security.step_pages import code_step_render, factor_step
from security.totp import codes, services
from twofactor_site.ratelimits import rate, ratelimit, user_key

CODE_STEP = services.CODE_STEP  # the key of this step in accounts.stages (security/apps.py)

# --- Enrollment: recovery codes (security.recovery_codes.views), then the app, then success --


def _may_enroll(view):
    """SSO members (their identity provider handles it) and members with an app already have
    nothing to set up here: before any proof is asked (an SSO member has no password here)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if request.user.is_sso or services.active_device(request.user):
            return redirect("security:personal")
        return view(request, *args, **kwargs)

    return wrapped


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
@_may_enroll
@recent_auth_required(methods={"POST"})  # the page itself shows nothing secret
def enroll(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        services.totp_enrollment_start(user=user)
        presence_carry(request, flow=TOTP_ENROLLMENT_FLOW)
        return redirect("security:enroll-codes")
    required = requirement_applies(user)
    context = {"required": required, "passkeys_accepted": required and user.account.accept_passkeys}
    return render(request, "security/enroll_start.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@sensitive_post_parameters("code")
@never_cache
@login_required
@ratelimit(group="enroll-code", key=user_key, rate=rate("RATELIMIT_CODE_IP"), method="POST")
@recent_auth_required(flow=TOTP_ENROLLMENT_FLOW)
@enrolling
def enroll_app(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = SecondFactorCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        code = codes.normalize_code(form.cleaned_data["code"])
        if code and services.totp_device_confirm(audit=Audit.of(request), user=user, code=code):
            session_reattach(request)  # this session goes on; the others ended
            presence_carry_end(request, flow=TOTP_ENROLLMENT_FLOW)
            return redirect("security:enroll-done")
        form.add_error(
            "code", _("That code didn't work. Check the time on your phone and try again.")
        )
    secret = services.device_secret(request.enrollment_device)
    uri = codes.provisioning_uri(secret, account_name=user.email, issuer=settings.SITE_NAME)
    context = {
        "form": form,
        "qr_svg": codes.qr_svg(uri),
        "uri": uri,  # "Open in your authenticator app", for the phone that holds the app
        "key": codes.secret_grouped(secret),
        "key_plain": secret,  # what Copy puts on the clipboard: no spaces to trip an app
    }
    return render(request, "security/enroll_app.html", context, status=400 if form.errors else 200)


@require_safe
@never_cache
@login_required
def enroll_done(request: HttpRequest) -> HttpResponse:
    if services.active_device(request.user) is None:
        return redirect("security:enroll")
    return render(request, "security/enroll_done.html")


# --- Managing an active app ------------------------------------------------------------------


@require_safe
@never_cache
@login_required
@active_app_required
def manage(request: HttpRequest) -> HttpResponse:
    context = {
        "remaining": recovery_codes_remaining(user=request.user),
        "required": not removal_allowed(request.user, step_key=CODE_STEP),
    }
    return render(request, "security/manage.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
@active_app_required
@recent_auth_required
def totp_remove(request: HttpRequest) -> HttpResponse:
    required = not removal_allowed(request.user, step_key=CODE_STEP)
    if request.method == "POST":
        if services.totp_device_remove(audit=Audit.of(request), user=request.user):
            session_reattach(request)  # this session goes on; the others ended
            text = _("Authenticator app removed.")
            if stages.steps_of(request.user) == [stages.EMAIL_LINK]:
                text += " " + _("You'll sign in with an email link.")
            messages.success(request, text)
            return redirect("security:personal")
        messages.error(
            request, _("Your team requires an authenticator app, so it can't be removed.")
        )
        return render(request, "security/totp_remove.html", {"required": True}, status=403)
    context = {"required": required, "keeps_passkey": len(stages.steps_of(request.user)) > 1}
    return render(request, "security/totp_remove.html", context)


# --- The sign-in step: a code from the app -----------------------------------------------


@factor_step(CODE_STEP, secret_field="code")
def login_code(request: HttpRequest) -> HttpResponse:
    member = request.step_member  # services.code_step_load
    data = request.POST if request.method == "POST" else None
    form = SecondFactorCodeForm(data, recovery_code_hint=True)
    lock = None
    if request.method == "POST" and form.is_valid():
        raw = form.cleaned_data["code"]
        result = services.totp_code_verify(audit=Audit.of(request), member=member, raw=raw)
        if result.ok:
            return stages.step_passed(
                request,
                user=member.user,
                method=result.method,
                trust=stages.trust_requested(request),
            )
        form.add_error("code", _("That code didn't work. Check your app and try again."))
        lock = result.lock
    return code_step_render(
        request, "accounts/login_code.html", form=form, field="code", lock=lock, step_key=CODE_STEP
    )
