"""What every factor's sign-in page shows around its form (templates/accounts/login_step_base.html):
the lock, in the member's terms (what is locked, until when, what they can do now), the
warning before one, and the member's other ways in ("Use a recovery code instead"); and the
decorators every factor's step view has."""

from __future__ import annotations

from datetime import timezone as dt_timezone

from django.conf import settings
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts import stages
from accounts.models import User
from security.lockout import Lock, lock_of
from twofactor_site.ratelimits import client_ip_key, rate, ratelimit
from twofactor_site.views import wait_text

# Every factor's attempts from one address count against one limit (RATELIMIT_CODE_IP): a
# recovery code or a passkey is no way round the app's.
CODE_IP_LIMIT = ratelimit(
    group="code-ip", key=client_ip_key, rate=rate("RATELIMIT_CODE_IP"), method="POST"
)


def factor_step(step_key: str, *, secret_field: str):
    """The decorators of the sign-in step ``step_key``, outermost first: GET (HEAD) and POST;
    ``secret_field`` kept out of error reports; never cached; the limit every factor's
    attempts share (CODE_IP_LIMIT); then the pending login waiting for this step."""
    decorators = (
        require_http_methods(["GET", "HEAD", "POST"]),
        sensitive_post_parameters(secret_field),
        never_cache,
        CODE_IP_LIMIT,
        stages.step_required(step_key),
    )

    def decorator(view):
        for wrap in reversed(decorators):
            view = wrap(view)
        return view

    return decorator


def code_step_render(
    request: HttpRequest,
    template: str,
    *,
    form: Form,
    field: str,
    lock: Lock | None,
    step_key: str,
) -> HttpResponse:
    """The page of a step where a code is typed (``field`` of ``form``), as ``lock`` (this
    attempt's, else the member's row's) leaves it: 429 while locked, the field's error then
    left out (the lock says it all); 400 with an error; else 200."""
    user = request.step_member.user
    lock = lock or lock_of(user)
    if lock.locked:
        form.errors.pop(field, None)
    context = {
        "form": form,
        **step_page_context(request=request, user=user, lock=lock, step_key=step_key),
    }
    status = 429 if lock.locked else (400 if form.errors else 200)
    return render(request, template, context, status=status)


def step_page_context(*, request: HttpRequest, user: User, lock: Lock, step_key: str) -> dict:
    """The context the step page of ``step_key`` shares with the others, for ``user`` as
    ``lock`` finds them (the Verification of this very attempt's, or the member's row's)."""
    ways = stages.ways_here(request, user)
    context = {
        "trust_days": request.pending_login.trust_days,  # "Trust this browser", when offered
        "trust_ticked": request.POST.get("trust") == "on",
        "lock": lock,
        "alternatives": [s for s in ways if s.key != step_key and s is not stages.EMAIL_LINK],
        "support_email": settings.SUPPORT_EMAIL,
        "is_account_admin": user.is_account_admin,
        "lockout_minutes": settings.TWOFACTOR_LOCKOUT_MINUTES,
    }
    if lock.locked:
        context["locked_ways"] = _or_list([str(s.way) for s in ways if s.way])
        if lock.until is not None:
            context["locked_until"] = lock.until.astimezone(dt_timezone.utc).strftime("%H:%M")
            context["wait"] = wait_text(int((lock.until - timezone.now()).total_seconds()))
    return context


def _or_list(items: list[str]) -> str:
    """ "a, b or c" """
    if len(items) <= 1:
        return "".join(items)
    return _("%(some)s or %(last)s") % {"some": ", ".join(items[:-1]), "last": items[-1]}
