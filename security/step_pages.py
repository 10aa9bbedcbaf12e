"""What every factor's sign-in page shows around its form (templates/accounts/login_step_base.html):
the lock, in the member's terms (what is locked, until when, what they can do now), the
warning before one, and the member's other ways in ("Use a recovery code instead")."""

from __future__ import annotations

from datetime import timezone as dt_timezone

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import stages
from accounts.models import User
from security.lockout import Lock
from twofactor_site.views import wait_text


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
