"""Passkeys: registering one from personal settings, the list, renaming, removing, and the
sign-in step. The browser side is static/js/passkeys.js: it reads the options from the page,
calls navigator.credentials and posts the answer (or the browser's error) as a form field."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_safe

from accounts import stages
from accounts.presence import session_reattach
from security.decorators import recent_auth_required
from security.events import Audit
from security.lockout import lock_of
from security.passkeys import services
from security.passkeys.forms import PasskeyAddForm, PasskeyAnswerForm, PasskeyNameForm
from security.passkeys.models import Passkey
from security.recovery_codes.services import recovery_codes_list
from security.step_pages import factor_step, step_page_context
from twofactor_site.ratelimits import rate, ratelimit, user_key

# The secret that binds a registration's challenge to this browser's session.
REGISTRATION_SESSION_KEY = "twofactor_passkey_registration"
# Set once the member confirmed they saved the recovery codes made for their first key.
CODES_SAVED_SESSION_KEY = "twofactor_passkey_codes_saved"


def _registration_refused_text(reason: str) -> str:
    return {
        "expired": _("That took too long, or the page was used twice. Try again."),
        "duplicate": _("That passkey or security key is already registered."),
    }.get(reason, _("Your passkey's answer couldn't be verified. Try again, or use another key."))


def _sign_in_refused_text(reason: str) -> str:
    return {
        "expired": _("That took too long, or the page was used twice. Try again."),
        "unknown_key": _(
            "That passkey or security key isn't registered to your account. Use one you "
            "added in your personal settings."
        ),
        "counter_went_back": _(
            "That key was refused: it looks like a copy of your key was used. Use another "
            "key, and tell your Account Admin."
        ),
    }.get(reason, _("Your passkey's answer couldn't be verified. Try again."))


def _registration_binding(request: HttpRequest) -> str:
    secret = request.session.get(REGISTRATION_SESSION_KEY)
    if not isinstance(secret, str):
        secret = secrets.token_urlsafe(32)
        request.session[REGISTRATION_SESSION_KEY] = secret
    return services.binding_of(secret)


def _own_passkey(request: HttpRequest, pk: int) -> Passkey:
    passkey = Passkey.objects.filter(pk=pk, user=request.user).first()
    if passkey is None:
        raise Http404
    return passkey


# --- Personal settings -----------------------------------------------------------------------


@require_safe
@never_cache
@login_required
def passkey_list(request: HttpRequest) -> HttpResponse:
    if request.user.is_sso:
        return redirect("security:personal")
    context = {"passkeys": services.passkeys_of(request.user)}
    return render(request, "passkeys/list.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
@recent_auth_required
def passkey_codes(request: HttpRequest) -> HttpResponse:
    """Recovery codes first, for a member who has none: made inactive, active with the key."""
    user = request.user
    if user.is_sso or not services.recovery_codes_needed(user=user):
        return redirect("security:passkey-add")
    status = 200
    if request.method == "POST":
        if request.POST.get("saved") == "yes":
            request.session[CODES_SAVED_SESSION_KEY] = True
            return redirect("security:passkey-add")
        messages.error(request, _("Confirm that you saved your recovery codes first."))
        status = 400
    codes = [code for code, _used in recovery_codes_list(user=user, active=False)]
    if not codes or request.method != "POST":
        codes = services.recovery_codes_prepare(user=user)
        request.session.pop(CODES_SAVED_SESSION_KEY, None)
    return render(request, "passkeys/codes.html", {"codes": codes}, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@sensitive_post_parameters("answer")
@never_cache
@login_required
@ratelimit(group="passkey-add", key=user_key, rate=rate("RATELIMIT_CODE_IP"), method="POST")
@recent_auth_required
def passkey_add(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.is_sso:
        return redirect("security:personal")
    codes_pending = bool(recovery_codes_list(user=user, active=False))
    if services.recovery_codes_needed(user=user) and not (
        codes_pending and request.session.get(CODES_SAVED_SESSION_KEY)
    ):
        return redirect("security:passkey-codes")
    binding = _registration_binding(request)
    form = PasskeyAddForm(request.POST if request.method == "POST" else None)
    problem = None
    if request.method == "POST" and form.is_valid():
        problem = form.browser_error()
        if problem is None:
            try:
                passkey = services.passkey_register(
                    audit=Audit.of(request),
                    user=user,
                    binding=binding,
                    name=form.cleaned_data["name"],
                    answer=form.cleaned_data["answer"],
                )
            except services.RegistrationRefused as refused:
                problem = _registration_refused_text(refused.reason)
            else:
                session_reattach(request)  # this session goes on; the others ended
                request.session.pop(CODES_SAVED_SESSION_KEY, None)
                messages.success(
                    request, _("Passkey \u201c%(name)s\u201d added.") % {"name": passkey.name}
                )
                return redirect("security:passkeys")
    context = {
        "form": form,
        "problem": problem,
        "options": services.passkey_registration_begin(user=user, binding=binding),
        "second_of_two": codes_pending,  # after "Step 1 of 2", the recovery codes
    }
    failed = problem is not None or form.errors
    return render(request, "passkeys/add.html", context, status=400 if failed else 200)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
@recent_auth_required
def passkey_rename(request: HttpRequest, pk: int) -> HttpResponse:
    passkey = _own_passkey(request, pk)
    form = PasskeyNameForm(
        request.POST if request.method == "POST" else None, initial={"name": passkey.name}
    )
    if request.method == "POST" and form.is_valid():
        services.passkey_rename(
            audit=Audit.of(request),
            user=request.user,
            passkey=passkey,
            name=form.cleaned_data["name"],
        )
        messages.success(request, _("Passkey renamed."))
        return redirect("security:passkeys")
    context = {"form": form, "passkey": passkey}
    return render(request, "passkeys/rename.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
@recent_auth_required
def passkey_remove(request: HttpRequest, pk: int) -> HttpResponse:
    passkey = _own_passkey(request, pk)
    allowed = services.passkey_removal_allowed(user=request.user, passkey=passkey)
    if request.method == "POST":
        if services.passkey_remove(audit=Audit.of(request), user=request.user, passkey=passkey):
            session_reattach(request)  # this session goes on; the others ended
            messages.success(
                request, _("Passkey \u201c%(name)s\u201d removed.") % {"name": passkey.name}
            )
            return redirect("security:passkeys")
        allowed = False
    context = {"passkey": passkey, "allowed": allowed}
    return render(
        request,
        "passkeys/remove.html",
        context,
        status=403 if not allowed and request.method == "POST" else 200,
    )


# --- The sign-in step ------------------------------------------------------------------------


@factor_step(services.PASSKEY_STEP, secret_field="answer")
def login_passkey(request: HttpRequest) -> HttpResponse:
    member = request.step_member  # services.passkey_step_load
    binding = services.binding_of(request.pending_login.nonce)
    form = PasskeyAnswerForm(request.POST if request.method == "POST" else None)
    problem, lock = None, None
    if request.method == "POST" and form.is_valid():
        problem = form.browser_error()
        if problem is None:
            result = services.passkey_verify(
                audit=Audit.of(request),
                member=member,
                binding=binding,
                answer=form.cleaned_data["answer"],
            )
            if result.ok:
                trust = stages.trust_requested(request)
                return stages.step_passed(request, user=member.user, method="passkey", trust=trust)
            lock = result.lock
            problem = _sign_in_refused_text(result.reason)
    lock = lock or lock_of(member.user)
    context = {
        "form": form,
        "problem": None if lock.locked else problem,
        "options": None
        if lock.locked
        else services.passkey_sign_in_begin(member=member, binding=binding),
        **step_page_context(
            request=request, user=member.user, lock=lock, step_key=services.PASSKEY_STEP
        ),
    }
    status = 429 if lock.locked else (400 if problem or form.errors else 200)
    return render(request, "passkeys/login.html", context, status=status)
