from __future__ import annotations

from django.shortcuts import redirect
from django.utils import timezone

from accounts.middleware import url_name
from security.policy import setup_deadline

# Where a member who must enroll may go: enrollment itself and the way out.
ENROLLMENT_URL_NAMES = frozenset(
    {
        "security:enroll",
        "security:enroll-codes",
        "security:enroll-codes-download",
        "security:enroll-codes-print",
        "security:enroll-app",
        "security:enroll-done",
        "security:reauth",  # a step whose proof is too old asks for it here
        "accounts:logout",
        # A passkey, where the team's requirement accepts one (otherwise adding one still
        # leaves the member to set up the app, and this middleware sends them there).
        "security:passkeys",
        "security:passkey-add",
        "security:passkey-codes",
    }
)


class EnrollmentRequiredMiddleware:
    """While the account requires a factor, a signed-in member without one it accepts is
    sent to enrollment from every page until they finish; before their deadline (a date the
    admin chose, or a newcomer's grace period) every page shows them a banner instead."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        # Kept on the request for the layout: during forced set-up the nav offers only what
        # works (twofactor_site.context_processors.site). The account row came with the
        # member in this request's own query (accounts.backends.EmailBackend.get_user).
        deadline = user.is_authenticated and setup_deadline(
            user, account=user.account if user.account_id else None
        )
        request.must_enroll = bool(deadline) and deadline <= timezone.now()
        # Until then, the date for the layout's banner (twofactor_site.context_processors).
        request.setup_due = deadline if deadline and not request.must_enroll else None
        if request.must_enroll and url_name(request.path_info) not in ENROLLMENT_URL_NAMES:
            return redirect("security:enroll")
        return self.get_response(request)
