"""Recovery codes: seen, downloaded and printed during enrollment and in settings; renewed."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from accounts import stages
from accounts.presence import session_reattach
from security.decorators import (
    TOTP_ENROLLMENT_FLOW,
    active_app_required,
    enrolling,
    recent_auth_required,
)
from security.events import Audit
from security.forms import RecoveryCodeForm
from security.recovery_codes import services
from security.recovery_codes.services import RECOVERY_CODE_STEP
from security.step_pages import code_step_render, factor_step


def _codes_text(request: HttpRequest, codes: list[str]) -> HttpResponse:
    body = _("%(site)s recovery codes for %(email)s") % {
        "site": settings.SITE_NAME,
        "email": request.user.email,
    }
    body += "\n" + _("Each code works once. Keep them somewhere safe.") + "\n\n"
    body += "\n".join(codes) + "\n"
    response = HttpResponse(body, content_type="text/plain; charset=utf-8")
    filename = f"{settings.SITE_NAME.lower()}-recovery-codes.txt"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _enrollment_codes_page(view):
    """A GET page of the codes during enrollment (they are not active until the app is)."""
    view = enrolling(view)
    view = recent_auth_required(flow=TOTP_ENROLLMENT_FLOW)(view)
    return require_safe(never_cache(login_required(view)))


def _settings_codes_page(view):
    """A GET page of the codes in settings: for a member with an active app, signed in lately."""
    view = active_app_required(recent_auth_required(view))
    return require_safe(never_cache(login_required(view)))


def _codes_print(request: HttpRequest, *, active: bool) -> HttpResponse:
    codes = services.recovery_codes_list(user=request.user, active=active)
    return render(request, "security/codes_print.html", {"codes": codes})


# --- During enrollment: the codes come first, before the app -------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
@recent_auth_required(flow=TOTP_ENROLLMENT_FLOW)
@enrolling
def enroll_codes(request: HttpRequest) -> HttpResponse:
    status = 200
    if request.method == "POST":
        if request.POST.get("saved") == "yes":
            return redirect("security:enroll-app")
        messages.error(request, _("Confirm that you saved your recovery codes first."))
        status = 400
    codes = [code for code, _used in services.recovery_codes_list(user=request.user, active=False)]
    context = {
        "codes": codes,
        "download_url": reverse("security:enroll-codes-download"),
        "print_url": reverse("security:enroll-codes-print"),
    }
    return render(request, "security/enroll_codes.html", context, status=status)


@_enrollment_codes_page
def enroll_codes_download(request: HttpRequest) -> HttpResponse:
    codes = [c for c, _used in services.recovery_codes_list(user=request.user, active=False)]
    return _codes_text(request, codes)


@_enrollment_codes_page
def enroll_codes_print(request: HttpRequest) -> HttpResponse:
    return _codes_print(request, active=False)


# --- In settings, with an active app ---------------------------------------------------------


@_settings_codes_page
def recovery_codes(request: HttpRequest) -> HttpResponse:
    codes = services.recovery_codes_list(user=request.user)
    return render(request, "security/recovery_codes.html", {"codes": codes})


@_settings_codes_page
def recovery_codes_download(request: HttpRequest) -> HttpResponse:
    codes = [c for c, used in services.recovery_codes_list(user=request.user) if not used]
    return _codes_text(request, codes)


@_settings_codes_page
def recovery_codes_print(request: HttpRequest) -> HttpResponse:
    return _codes_print(request, active=True)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
@active_app_required
@recent_auth_required
def recovery_codes_regenerate(request: HttpRequest) -> HttpResponse:
    """GET asks first (every current code stops working); the POST of its button does it."""
    if request.method != "POST":  # GET, or HEAD (no CSRF token: it must not regenerate)
        remaining = services.recovery_codes_remaining(user=request.user)
        return render(request, "security/recovery_codes_regenerate.html", {"remaining": remaining})
    services.recovery_codes_regenerate(audit=Audit.of(request), user=request.user)
    session_reattach(request)  # this session goes on; the others ended
    messages.success(request, _("New recovery codes are ready. Your old codes no longer work."))
    return redirect("security:recovery-codes")


# --- The sign-in step: a recovery code instead of the member's factor -----------------------


@factor_step(RECOVERY_CODE_STEP, secret_field="recovery_code")
def login_recovery_code(request: HttpRequest) -> HttpResponse:
    member = request.step_member  # services.recovery_step_load
    form = RecoveryCodeForm(request.POST if request.method == "POST" else None)
    lock = None
    if request.method == "POST" and form.is_valid():
        raw = form.cleaned_data["recovery_code"]
        result = services.recovery_code_verify(audit=Audit.of(request), member=member, raw=raw)
        if result.ok:
            _recovery_code_message(request, result.remaining_codes)
            return stages.step_passed(
                request,
                user=member.user,
                method=result.method,
                events=result.events,
                trust=stages.trust_requested(request),
            )
        if result.reason == "used":
            form.add_error("recovery_code", _("That recovery code was already used."))
        else:
            form.add_error(
                "recovery_code",
                _("That isn't one of your recovery codes. Check it and try again."),
            )
        lock = result.lock
    return code_step_render(
        request,
        "accounts/login_recovery_code.html",
        form=form,
        field="recovery_code",
        lock=lock,
        step_key=RECOVERY_CODE_STEP,
    )


def _recovery_code_message(request: HttpRequest, remaining: int) -> None:
    text = ngettext(
        "You signed in with a recovery code. You have %(n)d recovery code left.",
        "You signed in with a recovery code. You have %(n)d recovery codes left.",
        remaining,
    ) % {"n": remaining}
    if remaining <= settings.TWOFACTOR_RECOVERY_CODES_LOW:
        messages.warning(request, text + " " + _("Generate new ones in your personal settings."))
    else:
        messages.info(request, text)
