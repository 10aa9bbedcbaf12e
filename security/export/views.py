"""The Security page's export of the team's log, streamed."""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.decorators import account_admin_required
from security.decorators import recent_auth_required
from security.events import Audit, Kind, event_record
from security.export import rows
from security.export.forms import SecurityLogExportForm
from security.export.log import events_for_export
from twofactor_site.ratelimits import rate, ratelimit, user_key

_CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl; charset=utf-8"}


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
@login_required
@account_admin_required
@recent_auth_required  # the whole team's addresses, IPs and browsers: a copied cookie is not enough
@ratelimit(
    group="security-export", key=user_key, rate=rate("RATELIMIT_SECURITY_EXPORT"), method="POST"
)
def security_log_export(request: HttpRequest) -> HttpResponse:
    """The team's security log as a CSV or JSON Lines file, filtered by the Security page's
    export form; a bad filter shows the form again with what to fix (400). The export is a POST
    with its CSRF token, as it is a security event and spends a budget: a GET (a link from
    elsewhere, or the way back from re-authentication) only shows the form."""
    account = request.user.account
    if request.method != "POST":  # GET, or HEAD (no CSRF token: it must not export)
        context = {**export_section_context(account), "nav": "security"}
        return render(request, "security/export.html", context)
    form = SecurityLogExportForm(request.POST, account=account)
    if not form.is_valid():
        context = {**export_section_context(account, form=form), "nav": "security"}
        return render(request, "security/export.html", context, status=400)
    since, until = form.window()
    choice = form.cleaned_data
    event_record(
        kind=Kind.SECURITY_LOG_EXPORTED,
        audit=Audit.of(request),
        user=request.user,
        format=choice["format"],
        start=choice["start"].isoformat() if choice["start"] else "",
        end=choice["end"].isoformat() if choice["end"] else "",
        member=choice["member"],
        filter_kind=choice["kind"],
    )
    chunks = events_for_export(
        account_id=account.pk,
        since=since,
        until=until,
        email=choice["member"],
        kind=choice["kind"],
    )
    response = StreamingHttpResponse(
        _encoded(chunks, choice["format"]), content_type=_CONTENT_TYPES[choice["format"]]
    )
    name = f"security-log-{since.date() if since else 'start'}-to-{until.date()}"
    response["Content-Disposition"] = f'attachment; filename="{name}.{choice["format"]}"'
    return response


def _encoded(chunks: Iterator[list[tuple]], format_: str) -> Iterator[str]:
    if format_ == "csv":
        yield rows.csv_header()
    encode = rows.csv_rows if format_ == "csv" else rows.jsonl_rows
    for chunk in chunks:
        yield encode(rows.event_row(values) for values in chunk)


def export_section_context(account, *, form: SecurityLogExportForm | None = None) -> dict:
    """What templates/security/_export.html shows: the form (bound, with its errors, after a
    bad filter), the members' addresses to pick from, and how long the log keeps events."""
    return {
        "export_form": form or SecurityLogExportForm(account=account),
        "export_members": list(account.members.order_by("email").values_list("email", flat=True)),
        "log_days": settings.TWOFACTOR_SECURITY_LOG_DAYS,
    }
