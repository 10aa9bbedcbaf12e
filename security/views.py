"""Personal two-factor settings, authenticator enrollment, recovery codes, the Security page."""

from __future__ import annotations

import functools
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from accounts.decorators import account_admin_required
from accounts.forms import ReauthForm, SecondFactorCodeForm
from accounts.login_flow import VERIFIED_AT_SESSION_KEY, safe_next
from accounts.ratelimits import rate, user_key
from accounts.services import user_sessions_end
from security import services, totp
from security.models import SecurityEvent
from security.policy import Method, method_of, requirement_applies

EVENTS_PER_PAGE = 25
_REQUIRE_UNREADABLE = {
    "title": _lazy("That request could not be read"),
    "message": _lazy("Go back to the Security page and use its button."),
}


def recent_auth_required(view):
    """Seeing codes or removing the app needs proof of presence within the last
    TWOFACTOR_REAUTH_MINUTES (a fresh sign-in counts)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        verified_at = request.session.get(VERIFIED_AT_SESSION_KEY, 0)
        if time.time() - verified_at > settings.TWOFACTOR_REAUTH_MINUTES * 60:
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('security:reauth')}?{query}")
        return view(request, *args, **kwargs)

    return wrapped


def _factor_changed(request: HttpRequest) -> None:
    """A factor changed: every other session of the member ends; this one goes on."""
    user_sessions_end(user=request.user)
    update_session_auth_hash(request, request.user)


# --- Personal settings -----------------------------------------------------------------------


@require_GET
@login_required
def personal(request: HttpRequest) -> HttpResponse:
    user = request.user
    events = SecurityEvent.objects.filter(user=user)[:10]
    context = {
        "method": method_of(user),
        "Method": Method,
        "required": requirement_applies(user),
        "events": events,
    }
    return render(request, "security/personal.html", context)


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("secret")
@never_cache
@login_required
@ratelimit(group="reauth", key=user_key, rate=rate("RATELIMIT_REAUTH_USER"), method="POST")
def reauth(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = ReauthForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        secret = form.cleaned_data["secret"]
        user = request.user
        if user.check_password(secret) or services.reauth_code_check(user=user, raw=secret):
            request.session[VERIFIED_AT_SESSION_KEY] = time.time()
            return redirect(next_url or "security:manage")
        form.add_error("secret", _("That didn't match your password or a current code."))
    status = 400 if form.errors else 200
    return render(request, "security/reauth.html", {"form": form, "next": next_url}, status=status)


# --- Enrollment: recovery codes, then the app, then success ----------------------------------


@require_http_methods(["GET", "POST"])
@never_cache
@login_required
def enroll(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_sso or services.active_device(user):
        return redirect("security:personal")
    if request.method == "POST":
        services.totp_enrollment_start(user=user)
        return redirect("security:enroll-codes")
    context = {"required": requirement_applies(user)}
    return render(request, "security/enroll_start.html", context)


def _enrolling(view):
    """The member has an enrollment in progress (started by ``enroll``)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        device = services.enrollment_device(user=request.user)
        if device is None:
            return redirect("security:enroll")
        request.enrollment_device = device
        return view(request, *args, **kwargs)

    return wrapped


@require_http_methods(["GET", "POST"])
@never_cache
@login_required
@_enrolling
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


@require_http_methods(["GET", "POST"])
@sensitive_post_parameters("code")
@never_cache
@login_required
@ratelimit(group="enroll-code", key=user_key, rate=rate("RATELIMIT_CODE_IP"), method="POST")
@_enrolling
def enroll_app(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = SecondFactorCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        code = totp.normalize_code(form.cleaned_data["code"])
        if code and services.totp_device_confirm(request=request, user=user, code=code):
            _factor_changed(request)
            return redirect("security:enroll-done")
        form.add_error(
            "code", _("That code didn't work. Check the time on your phone and try again.")
        )
    secret = services.device_secret(request.enrollment_device)
    uri = totp.provisioning_uri(secret, account_name=user.email, issuer=settings.SITE_NAME)
    context = {"form": form, "qr_svg": totp.qr_svg(uri), "key": totp.secret_grouped(secret)}
    return render(request, "security/enroll_app.html", context, status=400 if form.errors else 200)


@require_GET
@never_cache
@login_required
def enroll_done(request: HttpRequest) -> HttpResponse:
    if services.active_device(request.user) is None:
        return redirect("security:enroll")
    return render(request, "security/enroll_done.html")


# --- Recovery codes: download and print (enrollment and settings share these) ----------------


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


@require_GET
@never_cache
@login_required
@_enrolling
def enroll_codes_download(request: HttpRequest) -> HttpResponse:
    codes = [c for c, _used in services.recovery_codes_list(user=request.user, active=False)]
    return _codes_text(request, codes)


@require_GET
@never_cache
@login_required
@_enrolling
def enroll_codes_print(request: HttpRequest) -> HttpResponse:
    codes = services.recovery_codes_list(user=request.user, active=False)
    return render(request, "security/codes_print.html", {"codes": codes})


# --- Managing an active app ------------------------------------------------------------------


def _active_app_required(view):
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if services.active_device(request.user) is None:
            return redirect("security:personal")
        return view(request, *args, **kwargs)

    return wrapped


@require_GET
@never_cache
@login_required
@_active_app_required
def manage(request: HttpRequest) -> HttpResponse:
    context = {
        "remaining": services.recovery_codes_remaining(user=request.user),
        "required": requirement_applies(request.user),
    }
    return render(request, "security/manage.html", context)


@require_GET
@never_cache
@login_required
@_active_app_required
@recent_auth_required
def recovery_codes(request: HttpRequest) -> HttpResponse:
    codes = services.recovery_codes_list(user=request.user)
    return render(request, "security/recovery_codes.html", {"codes": codes})


@require_GET
@never_cache
@login_required
@_active_app_required
@recent_auth_required
def recovery_codes_download(request: HttpRequest) -> HttpResponse:
    codes = [c for c, used in services.recovery_codes_list(user=request.user) if not used]
    return _codes_text(request, codes)


@require_GET
@never_cache
@login_required
@_active_app_required
@recent_auth_required
def recovery_codes_print(request: HttpRequest) -> HttpResponse:
    codes = services.recovery_codes_list(user=request.user)
    return render(request, "security/codes_print.html", {"codes": codes})


@require_POST
@never_cache
@login_required
@_active_app_required
@recent_auth_required
def recovery_codes_regenerate(request: HttpRequest) -> HttpResponse:
    services.recovery_codes_regenerate(request=request, user=request.user)
    _factor_changed(request)
    messages.success(request, _("New recovery codes are ready. Your old codes no longer work."))
    return redirect("security:recovery-codes")


@require_http_methods(["GET", "POST"])
@never_cache
@login_required
@_active_app_required
@recent_auth_required
def totp_remove(request: HttpRequest) -> HttpResponse:
    required = requirement_applies(request.user)
    if request.method == "POST":
        if services.totp_device_remove(request=request, user=request.user, actor=request.user):
            _factor_changed(request)
            messages.success(
                request, _("Authenticator app removed. You'll sign in with an email link.")
            )
            return redirect("security:personal")
        messages.error(
            request, _("Your team requires an authenticator app, so it can't be removed.")
        )
        return render(request, "security/totp_remove.html", {"required": True}, status=403)
    return render(request, "security/totp_remove.html", {"required": required})


# --- The Security page (Account Admins) ------------------------------------------------------


@require_http_methods(["GET", "POST"])
@never_cache
@login_required
@account_admin_required
def security_page(request: HttpRequest) -> HttpResponse:
    admin = request.user
    account = admin.account
    has_app = services.active_device(admin) is not None
    if request.method == "POST":
        choice = request.POST.getlist("require")
        if choice not in (["on"], ["off"]):
            # Only the page's own buttons: a mangled value must not turn the requirement off.
            return render(request, "error.html", _REQUIRE_UNREADABLE, status=400)
        required = choice == ["on"]
        if services.requirement_set(
            request=request, account=account, admin=admin, required=required
        ):
            text = (
                _("Every team member now needs an authenticator app.")
                if required
                else _("Team members may sign in with an email link again.")
            )
            messages.success(request, text)
            return redirect("security:security")
        messages.error(request, _("Set up an authenticator app on your own account first."))
    events = SecurityEvent.objects.filter(account=account).select_related(None)
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"account": account, "has_app": has_app, "page": page}
    return render(request, "security/security.html", context)
