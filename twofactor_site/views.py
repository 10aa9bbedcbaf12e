"""Pages for refusals and faults: every one a clear page with a 4xx or 5xx, never a trace."""

from __future__ import annotations

import math
import sys

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import DataError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext

try:  # both are installed with django-redis; the names differ between versions
    from django_redis.exceptions import ConnectionInterrupted
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    # Out of reach, not wrong: the connection to Redis or PostgreSQL failed. (A value the
    # database refuses is the request's fault: see server_error.)
    SERVICE_ERRORS: tuple[type[BaseException], ...] = (
        ConnectionInterrupted,
        RedisConnectionError,
        RedisTimeoutError,
        OperationalError,
        InterfaceError,
    )
except ImportError:  # pragma: no cover
    SERVICE_ERRORS = (OperationalError, InterfaceError)


def error_layout(request: HttpRequest) -> str:
    """A signed-in member sees a refusal inside the pages they know (their nav, Sign out);
    everyone else, a pending login included, sees the entrance card."""
    user = getattr(request, "user", None)
    try:
        signed_in = user is not None and user.is_authenticated
    except SERVICE_ERRORS:  # the session store is out of reach: the plain card still renders
        signed_in = False
    return "layouts/manage.html" if signed_in else "layouts/entrance.html"


def _page(
    request: HttpRequest, status: int, title: str, message: str, *, in_layout: bool = False
) -> HttpResponse:
    """``in_layout``: inside the signed-in layout when the member is signed in. Only for
    refusals: a 500 or 503 page must render even when the session store or database is down."""
    layout = error_layout(request) if in_layout else "layouts/entrance.html"
    context = {"title": title, "message": message, "layout": layout}
    return render(request, "error.html", context, status=status)


def error_page(request: HttpRequest, status: int) -> HttpResponse:
    """The clear page for a refusal that came without one (a 405 from a method decorator)."""
    if status == 405:
        return _page(
            request,
            405,
            _("That doesn't work here"),
            _("This page can't be used that way. Go back and use its buttons and links."),
            in_layout=True,
        )
    if status == 404:
        return page_not_found(request, None)
    if status == 403:
        return permission_denied(request, None)
    return _page(request, status, _("That request could not be read"), _("Go back and try again."))


def unsupported_media_type(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        415,
        _("That request could not be read"),
        _("Send the form from its page in a browser, then try again."),
    )


def admin_login(request: HttpRequest, extra_context=None) -> HttpResponse:
    """The admin's login page: staff sign in through ours, second step included; a signed-in
    member who is not staff is refused instead of being sent round in a loop."""
    if request.user.is_authenticated:
        raise PermissionDenied
    return redirect_to_login(request.GET.get("next") or "/admin/", settings.LOGIN_URL)


# Which limit refused, in the member's terms (the groups of twofactor_site.ratelimits.ratelimit).
_LIMITS = {
    "login-ip": _lazy("There were too many sign-in attempts from your network."),
    "login-email": _lazy("There were too many sign-in attempts for this email address."),
    "resend-user": _lazy("You asked for a new sign-in link too many times."),
    "resend-ip": _lazy("Too many new sign-in links were asked for from your network."),
    "code-ip": _lazy("Too many codes were tried from your network."),
    "enroll-code": _lazy("Too many codes were tried while setting up your app."),
    "reset-ip": _lazy("Too many password resets were asked for from your network."),
    "reset-email": _lazy("Too many password resets were asked for this email address."),
    "reauth": _lazy("There were too many tries to confirm it's you."),
    "invite": _lazy("You added too many team members in a short time."),
    "sso-ip": _lazy("There were too many single sign-on attempts from your network."),
    "requirement": _lazy("Your team's requirement was turned on and off too often."),
}


def wait_text(seconds: int | None) -> str:
    """How long to wait, in the member's terms: "Try again in 14 minutes." """
    if not seconds or seconds <= 0:
        return _("Wait a few minutes, then try again.")
    if seconds < 60:
        return _("Try again in less than a minute.")
    minutes = math.ceil(seconds / 60)
    return ngettext("Try again in %(n)d minute.", "Try again in %(n)d minutes.", minutes) % {
        "n": minutes
    }


def ratelimited(request: HttpRequest, exception: Exception) -> HttpResponse:
    """429: which limit refused, how long until it lets go, and what still works meanwhile."""
    group = getattr(exception, "group", None)
    retry_after = getattr(exception, "retry_after", None)
    text = str(_LIMITS.get(group, _("There were too many attempts from here.")))
    text += " " + wait_text(retry_after)
    note = getattr(exception, "note", "")
    if note:
        text += " " + note
    response = _page(request, 429, _("Too many attempts"), text, in_layout=True)
    if retry_after and retry_after > 0:
        response.headers["Retry-After"] = str(int(retry_after))
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _page(
        request,
        403,
        _("This form has expired"),
        _("Go back, reload the page and try again. Cookies must be enabled to sign in."),
    )


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _page(request, 400, _("That request could not be read"), _("Go back and try again."))


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _page(
        request,
        403,
        _("You can't open this page"),
        _("This page is for Account Admins of this team. Ask one of them if you need a change."),
        in_layout=True,
    )


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _page(
        request,
        404,
        _("Page not found"),
        _("Check the address, or go back to the home page."),
        in_layout=True,
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """500, or 503 when Redis or the database is out of reach: nothing half-done was kept,
    and the next try works once the service is back."""
    error = sys.exc_info()[1]
    if isinstance(error, SERVICE_ERRORS):
        response = _page(
            request,
            503,
            _("Try again shortly"),
            _(
                "We can't sign anyone in for a moment. Nothing was changed; please try again shortly."
            ),
        )
        response.headers["Retry-After"] = "30"
        return response
    if isinstance(error, (DataError, OverflowError)):
        # A value the database or Python cannot hold (a number out of range in a query
        # string, such as an admin filter's year 2147483648): the request is at fault, so it
        # is a 400, as for any other unreadable input.
        return bad_request(request, error)
    return _page(
        request, 500, _("Something went wrong"), _("It's not you, it's us. Please try again.")
    )


# What each status shows, for the preview below: the handlers themselves, as production calls them.
_PREVIEWS = {
    400: lambda request: bad_request(request, None),
    403: lambda request: permission_denied(request, None),
    404: lambda request: page_not_found(request, None),
    405: lambda request: error_page(request, 405),
    415: unsupported_media_type,
    429: lambda request: ratelimited(request, None),
    500: server_error,
}


def error_preview(request: HttpRequest, status: int) -> HttpResponse:
    """/_errors/<status>/: the page production shows for ``status``, for a developer on the
    debug server (where Django shows its technical pages instead). Not found unless DEBUG."""
    if not settings.DEBUG or status not in _PREVIEWS:
        return page_not_found(request, None)
    return _PREVIEWS[status](request)


class StrictFormViewMixin:
    """For Django's class-based form views: GET and POST only (their PUT would act as a
    POST), and a form with errors answers 400 like our function views do."""

    http_method_names = ["get", "post", "head", "options"]

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response
