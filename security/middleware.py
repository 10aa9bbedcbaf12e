from __future__ import annotations

from django.shortcuts import redirect

from accounts.middleware import url_name
from security.policy import must_enroll

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
    sent to enrollment from every page until they finish."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        # Kept on the request for the layout: during forced set-up the nav offers only what
        # works (twofactor_site.context_processors.site). The account row came with the
        # member in this request's own query (accounts.backends.EmailBackend.get_user).
        request.must_enroll = user.is_authenticated and must_enroll(
            user, account=user.account if user.account_id else None
        )
        if request.must_enroll and url_name(request.path_info) not in ENROLLMENT_URL_NAMES:
            return redirect("security:enroll")
        return self.get_response(request)
