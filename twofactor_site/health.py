"""`/healthz` for the load balancer: 200 when PostgreSQL and Redis both answer, 503 naming the
one that did not, and the age of the oldest unsent email (an operator alerts on a stuck
queue). Answered by the first middleware after the two that set every answer's security
headers: no session, no user, no Host check (a balancer asks by the instance's address), no
HTTPS redirect (settings.SECURE_REDIRECT_EXEMPT), and no log line per hit."""

from __future__ import annotations

import json

from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.db.models import Min
from django.http import HttpResponse
from django.utils import timezone

from twofactor_site.mail.models import OutgoingEmail

HEALTH_PATH = "/healthz"
# Each check gives up after this long: a balancer's probe times out after a few seconds, and a
# database that needs longer than this for a one-row query is not healthy anyway.
CHECK_TIMEOUT_MS = 1000


def _database() -> float | None:
    """Seconds since the oldest unsent email was queued (None: nothing waits)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL statement_timeout = %s", [CHECK_TIMEOUT_MS])
        oldest = OutgoingEmail.objects.filter(status__in=OutgoingEmail.UNSENT).aggregate(
            oldest=Min("created_at")
        )["oldest"]
    return None if oldest is None else (timezone.now() - oldest).total_seconds()


def health_report() -> tuple[bool, dict]:
    report: dict = {}
    try:
        oldest = _database()
    except DatabaseError:
        report["database"] = "failed"
    else:
        report["database"] = "ok"
        report["oldest_unsent_email_seconds"] = None if oldest is None else round(oldest)
    try:
        cache.get("twofactor:healthz")  # the cache's own socket timeout bounds this (1 s)
    except Exception:  # whatever the cache client raises: a connection error, a timeout
        report["cache"] = "failed"
    else:
        report["cache"] = "ok"
    return report["database"] == report["cache"] == "ok", report


class HealthCheckMiddleware:
    """Third in MIDDLEWARE, after the security headers: `/healthz` never reaches sessions,
    auth or the Host check."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info != HEALTH_PATH or request.method not in ("GET", "HEAD"):
            return self.get_response(request)
        healthy, report = health_report()
        response = HttpResponse(
            json.dumps(report), content_type="application/json", status=200 if healthy else 503
        )
        response["Cache-Control"] = "no-store"
        response._has_been_logged = True  # no django.request line for each failing probe
        return response
