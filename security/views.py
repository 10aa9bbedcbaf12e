"""Personal two-factor settings, proving presence again, and the Security page.

Each factor's own pages are in its package: security.totp.views, security.recovery_codes.views."""

from __future__ import annotations

import copy

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_safe

from accounts import stages
from accounts.decorators import account_admin_required
from accounts.presence import presence_proved
from accounts.trusted_browsers import trusted_browsers_of
from accounts.user_sessions import sessions_of
from security.decorators import recent_auth_required
from security.events import Audit
from security.forms import ReauthForm, RequirementScheduleForm
from security.models import SecurityEvent
from security.passkeys.services import has_passkey, passkeys_of
from security.policy import (
    Method,
    members_without_accepted_factor,
    method_of,
    requirement_accepts,
    requirement_applies,
    requirement_set,
    rollout_of,
)
from security.templatetags.rollout import deadline as deadline_text
from security.totp.services import active_device, reauth_code_check
from twofactor_site.net import requested_next
from twofactor_site.numbers import page_number
from twofactor_site.ratelimits import account_key, rate, ratelimit, user_key
from twofactor_site.sessions import SESSION_ID_SESSION_KEY

EVENTS_PER_PAGE = 25
_REQUIRE_UNREADABLE = {
    "title": _lazy("That request could not be read"),
    "message": _lazy("Go back to the Security page and use its button."),
}


# --- Personal settings -----------------------------------------------------------------------


@require_safe
@login_required
def personal(request: HttpRequest) -> HttpResponse:
    user = request.user
    events = SecurityEvent.objects.filter(user=user)[:10]
    context = {
        "trusted_browsers": [] if user.is_sso else trusted_browsers_of(request, user=user),
        "method": method_of(user),
        "Method": Method,
        "passkeys": passkeys_of(user),
        "required": requirement_applies(user),
        "events": events,
        "sessions": sessions_of(user, current_id=request.session.get(SESSION_ID_SESSION_KEY)),
    }
    return render(request, "security/personal.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@sensitive_post_parameters("secret")
@never_cache
@login_required
@ratelimit(group="reauth", key=user_key, rate=rate("RATELIMIT_REAUTH_USER"), method="POST")
def reauth(request: HttpRequest) -> HttpResponse:
    next_url = requested_next(request)
    form = ReauthForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        secret = form.cleaned_data["secret"]
        user = request.user
        if user.check_password(secret) or reauth_code_check(user=user, raw=secret):
            presence_proved(request)
            return redirect(next_url or "security:manage")
        form.add_error("secret", _("That didn't match your password or a current code."))
    status = 400 if form.errors else 200
    return render(request, "security/reauth.html", {"form": form, "next": next_url}, status=status)


# --- The Security page (Account Admins) ------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
@account_admin_required
@recent_auth_required(methods={"POST"})  # the requirement changes how every member signs in
@ratelimit(group="requirement", key=account_key, rate=rate("RATELIMIT_REQUIREMENT"), method="POST")
def security_page(request: HttpRequest) -> HttpResponse:
    admin = request.user
    account = admin.account
    form = RequirementScheduleForm(
        request.POST if request.method == "POST" else None,
        initial={"grace_days": account.grace_days},
    )
    if request.method == "POST":
        choice = request.POST.getlist("require")
        accept = request.POST.getlist("accept")
        if choice not in (["on"], ["off"]) or accept not in ([], *ACCEPT_CHOICES):
            # Only the page's own buttons: a mangled value must not turn the requirement off.
            context = {**_REQUIRE_UNREADABLE, "layout": "layouts/manage.html"}
            return render(request, "error.html", context, status=400)
        required = choice == ["on"]
        accept_passkeys = accept == ["app_or_passkey"] if accept else None
        if not form.is_valid():  # a date that passed while the confirmation page was open
            return _security_page(request, form, status=400)
        if requirement_set(
            audit=Audit.of(request),
            account=account,
            admin=admin,
            required=required,
            accept_passkeys=accept_passkeys,
            starts_at=form.starts_at() if required else None,
            grace_days=form.cleaned_data["grace_days"] if required else None,
        ):
            messages.success(
                request,
                _requirement_text(account)
                if required
                else _("Team members may sign in with an email link again."),
            )
            return redirect("security:security")
        messages.error(request, _own_factor_first(accept_passkeys))
    return _security_page(request, form)


def _security_page(
    request: HttpRequest, form: RequirementScheduleForm, status: int = 200
) -> HttpResponse:
    admin = request.user
    account = admin.account
    events = SecurityEvent.objects.filter(account=account).select_related(None)
    page = Paginator(events, EVENTS_PER_PAGE).get_page(page_number(request.GET.get("page")))
    context = {
        "account": account,
        "has_app": active_device(admin) is not None,
        "has_passkey": has_passkey(admin),
        "page": page,
        "schedule": form,
        "rollout": rollout_of(account) if account.require_totp else None,
        "nav": "security",
    }
    return render(request, "security/security.html", context, status=status)


# What the requirement accepts, as the Security page's choice posts it.
ACCEPT_CHOICES = (["app"], ["app_or_passkey"])


def _requirement_text(account) -> str:
    if account.require_from is not None and account.require_from > timezone.now():
        date = deadline_text(account.require_from)
        if account.accept_passkeys:
            text = _("From %(date)s every team member needs an authenticator app or a passkey.")
        else:
            text = _("From %(date)s every team member needs an authenticator app.")
        return text % {"date": date}
    if account.accept_passkeys:
        return _("Every team member now needs an authenticator app or a passkey.")
    return _("Every team member now needs an authenticator app.")


def _own_factor_first(accept_passkeys: bool | None) -> str:
    if accept_passkeys:
        return _("Set up an authenticator app or a passkey on your own account first.")
    return _("Set up an authenticator app on your own account first.")


@require_safe
@never_cache
@login_required
@account_admin_required
@recent_auth_required  # asked here, before the question, rather than after its answer
def requirement_confirm(request: HttpRequest) -> HttpResponse:
    """Ask before turning the requirement on (it sends the whole team through set-up), off,
    or changing what it accepts. The page's button posts to the Security page."""
    account = request.user.account
    choice = request.GET.get("require")
    accept = request.GET.get("accept", requirement_accepts(account))
    turning_on = choice == "on"
    accept_passkeys = accept == "app_or_passkey"
    schedule = RequirementScheduleForm(request.GET)
    unchanged = (
        turning_on == account.require_totp
        and (not turning_on or accept_passkeys == account.accept_passkeys)
        and not request.GET.get("start")
        and not request.GET.get("grace_days")
    )
    if choice not in ("on", "off") or [accept] not in ACCEPT_CHOICES or unchanged:
        return redirect("security:security")
    if turning_on and not schedule.is_valid():
        return _security_page(request, schedule, status=400)
    proposed = copy.copy(account)
    proposed.require_totp, proposed.accept_passkeys = True, accept_passkeys
    if turning_on and not stages.meets_requirement(request.user, account=proposed):
        messages.error(request, _own_factor_first(accept_passkeys))
        return redirect("security:security")
    starts_at = schedule.starts_at() if turning_on else None
    context = {
        "turning_on": turning_on,
        "changing": turning_on and account.require_totp,
        "accept": accept,
        "accept_passkeys": accept_passkeys,
        "without_app": members_without_accepted_factor(account, accept_passkeys=accept_passkeys),
        # A date ahead: members are warned until then (None: now, or the date kept).
        "starts": starts_at if starts_at and starts_at > timezone.now() else None,
        "schedule_fields": schedule.query() if turning_on else {},
        "nav": "security",
    }
    return render(request, "security/requirement_confirm.html", context)
