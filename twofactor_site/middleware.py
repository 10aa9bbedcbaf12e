from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

from twofactor_site.views import bad_request, error_page, unsupported_media_type

# Everything from our own origin; no plugins, no <base>, never framed. Inline SVG for the QR
# code needs no exception; our only script is a static file.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

# What our forms send. Anything else in a request body (JSON, XML, text) is refused before any
# middleware or view tries to read it, so no form ever sees a body it cannot parse.
FORM_CONTENT_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# Browsers send forms in the page's encoding, and every page is UTF-8. A form in another
# charset is refused, not guessed at.
FORM_CHARSETS = frozenset({"", "utf-8", "utf8", "us-ascii", "ascii"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SecurityHeadersMiddleware:
    """Headers Django's SecurityMiddleware does not set (Django 5.2 has no CSP of its own),
    and ``Cache-Control: no-store`` on every answer to a signed-in member: each page of theirs
    shows their factors, sessions, team or log, and none may stay in a shared or back-button
    cache once they sign out, whether or not its view remembered ``never_cache``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)  # unset for static files and early refusals
        signed_in = user is not None and user.is_authenticated
        if signed_in and "no-store" not in response.get("Cache-Control", ""):
            add_never_cache_headers(response)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        # Also on answers that never reach XFrameOptionsMiddleware (an early 400 or 415).
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


def _content_length(request: HttpRequest) -> int | None:
    """The body's declared length; None when Content-Length is not a number of bytes (RFC 9110
    allows digits only: no sign, no word). Absent or empty means no body."""
    raw = request.META.get("CONTENT_LENGTH", "").strip()
    if not raw:
        return 0
    if not (raw.isascii() and raw.isdigit()):
        return None
    return int(raw)


def _query_items(request: HttpRequest):
    for key, values in request.GET.lists():
        for value in values:
            yield key, value


class RequestShapeMiddleware:
    """Refuse a Content-Length that is not a number with a clear 400 page, and a body that is
    not a UTF-8 form with a clear 415 page; give every bodiless refusal from deeper down (405
    from a method decorator, for one) the same clear page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if any("\x00" in key or "\x00" in value for key, value in _query_items(request)):
            # No field of ours takes a NUL, and PostgreSQL cannot store one (a 500 otherwise).
            return bad_request(request, None)
        content_length = _content_length(request)
        if content_length is None:
            # Django would fail reading it (a 500): refuse the request as unreadable instead.
            return bad_request(request, None)
        if request.method in BODY_METHODS and content_length > 0:
            charset = request.content_params.get("charset", "").strip().lower()
            if request.content_type not in FORM_CONTENT_TYPES or charset not in FORM_CHARSETS:
                return unsupported_media_type(request)
        response = self.get_response(request)
        if (
            400 <= response.status_code < 500
            and not response.streaming
            and not response.content
            and request.method != "HEAD"
        ):
            # The page's body into the original response: its headers (Allow, X-Frame-Options
            # and the rest set further in) stay.
            page = error_page(request, response.status_code)
            response.content = page.content
            response.headers["Content-Type"] = page.headers["Content-Type"]
            # CommonMiddleware, further in, measured the empty body: measure the page.
            response.headers["Content-Length"] = str(len(response.content))
        return response
