"""Recovery codes: seen, downloaded and printed during enrollment and in settings; renewed."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.presence import session_reattach
from security.decorators import (
    TOTP_ENROLLMENT_FLOW,
    active_app_required,
    enrolling,
    recent_auth_required,
)
from security.events import Audit
from security.recovery_codes import services


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


# --- During enrollment: the codes come first, before the app -------------------------------


@require_http_methods(["GET", "POST"])
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


@require_GET
@never_cache
@login_required
@recent_auth_required(flow=TOTP_ENROLLMENT_FLOW)
@enrolling
def enroll_codes_download(request: HttpRequest) -> HttpResponse:
    codes = [c for c, _used in services.recovery_codes_list(user=request.user, active=False)]
    return _codes_text(request, codes)


@require_GET
@never_cache
@login_required
@recent_auth_required(flow=TOTP_ENROLLMENT_FLOW)
@enrolling
def enroll_codes_print(request: HttpRequest) -> HttpResponse:
    codes = services.recovery_codes_list(user=request.user, active=False)
    return render(request, "security/codes_print.html", {"codes": codes})


# --- In settings, with an active app ---------------------------------------------------------


@require_GET
@never_cache
@login_required
@active_app_required
@recent_auth_required
def recovery_codes(request: HttpRequest) -> HttpResponse:
    codes = services.recovery_codes_list(user=request.user)
    return render(request, "security/recovery_codes.html", {"codes": codes})


@require_GET
@never_cache
@login_required
@active_app_required
@recent_auth_required
def recovery_codes_download(request: HttpRequest) -> HttpResponse:
    codes = [c for c, used in services.recovery_codes_list(user=request.user) if not used]
    return _codes_text(request, codes)


@require_GET
@never_cache
@login_required
@active_app_required
@recent_auth_required
def recovery_codes_print(request: HttpRequest) -> HttpResponse:
    codes = services.recovery_codes_list(user=request.user)
    return render(request, "security/codes_print.html", {"codes": codes})


@require_http_methods(["GET", "POST"])
@never_cache
@login_required
@active_app_required
@recent_auth_required
def recovery_codes_regenerate(request: HttpRequest) -> HttpResponse:
    """GET asks first (every current code stops working); the POST of its button does it."""
    if request.method == "GET":
        remaining = services.recovery_codes_remaining(user=request.user)
        return render(request, "security/recovery_codes_regenerate.html", {"remaining": remaining})
    services.recovery_codes_regenerate(audit=Audit.of(request), user=request.user)
    session_reattach(request)  # this session goes on; the others ended
    messages.success(request, _("New recovery codes are ready. Your old codes no longer work."))
    return redirect("security:recovery-codes")
