import csv
import datetime
import io
import json
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from security.events import Audit, event_record
from security.export.log import events_for_export
from security.models import SecurityEvent
from tests.conftest import sign_in_with_link

EXPORT = reverse("security:security-export")
UTC = datetime.timezone.utc
FIREFOX_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0"
)


def logged(kind, *, at, user=None, account=None, actor=None, email="", ip="203.0.113.7", **detail):
    audit = Audit(ip=ip, user_agent=FIREFOX_ON_WINDOWS)
    event = event_record(
        kind=kind, audit=audit, user=user, actor=actor, account=account, email=email, **detail
    )
    SecurityEvent.objects.filter(pk=event.pk).update(created_at=at)
    return event


def day(text, hour=12):
    return datetime.datetime.fromisoformat(text).replace(hour=hour, tzinfo=UTC)


def body(response) -> str:
    assert response.status_code == HTTPStatus.OK, response.content[:2000]
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body(response), newline="")))


def jsonl_rows(response) -> list[dict]:
    return [json.loads(line) for line in body(response).splitlines()]


@pytest.fixture
def log(account, account_admin, member):
    """A small log: two members' events over three days, and one of another team's."""
    logged("sign_in", at=day("2026-01-01", 0), user=member, method="totp")
    logged("code_failed", at=day("2026-01-02"), user=member)
    logged("totp_removed", at=day("2026-01-02", 23), user=member, actor=account_admin)
    logged("sign_in", at=day("2026-01-03", 23), user=account_admin, method="email_link")


@pytest.fixture
def other_log(other_admin):
    logged("sign_in", at=day("2026-01-02"), user=other_admin, ip="198.51.100.9")


def test_export_csv_parses_with_every_column(admin_client, log, member, account_admin):
    response = admin_client.post(EXPORT, {"format": "csv", "end": "2026-01-03"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="security-log-start-to-2026-01-04.csv"'
    )
    assert "no-store" in response["Cache-Control"]
    rows = csv_rows(response)
    assert [row["kind"] for row in rows] == ["sign_in", "code_failed", "totp_removed", "sign_in"]
    assert rows[0] == {
        "time": "2026-01-01T00:00:00Z",
        "kind": "sign_in",
        "event": "Signed in",
        "member": member.email,
        "actor": "",
        "ip": "203.0.113.7",
        "browser": "Firefox on Windows",
        "details": '{"method":"totp"}',
    }
    assert rows[2]["actor"] == account_admin.email


def test_export_jsonl_parses_one_event_per_line(admin_client, log, member):
    response = admin_client.post(EXPORT, {"format": "jsonl", "end": "2026-01-03"})
    assert response["Content-Type"] == "application/jsonl; charset=utf-8"
    assert response["Content-Disposition"].endswith('.jsonl"')
    rows = jsonl_rows(response)
    assert len(rows) == 4
    assert rows[0] == {
        "time": "2026-01-01T00:00:00Z",
        "kind": "sign_in",
        "event": "Signed in",
        "member": member.email,
        "actor": None,
        "ip": "203.0.113.7",
        "browser": "Firefox on Windows",
        "details": {"method": "totp"},
    }


def test_export_dates_are_whole_utc_days_both_included(admin_client, log):
    rows = csv_rows(
        admin_client.post(EXPORT, {"format": "csv", "start": "2026-01-02", "end": "2026-01-02"})
    )
    assert [row["time"] for row in rows] == ["2026-01-02T12:00:00Z", "2026-01-02T23:00:00Z"]


def test_export_start_alone_runs_to_now(admin_client, log):
    rows = csv_rows(admin_client.post(EXPORT, {"format": "csv", "start": "2026-01-03"}))
    assert rows[0]["time"] == "2026-01-03T23:00:00Z"
    # Then the admin's own sign-in of today; never the export itself.
    assert "security_log_exported" not in [row["kind"] for row in rows]


def test_export_member_keeps_what_happened_to_them_and_what_they_did(
    admin_client, log, account_admin
):
    params = {"format": "csv", "end": "2026-01-03", "member": account_admin.email.upper()}
    rows = csv_rows(admin_client.post(EXPORT, params))
    assert [row["kind"] for row in rows] == ["totp_removed", "sign_in"]


def test_export_kind_filters(admin_client, log):
    params = {"format": "jsonl", "end": "2026-01-03", "kind": "sign_in"}
    rows = jsonl_rows(admin_client.post(EXPORT, params))
    assert [row["time"] for row in rows] == ["2026-01-01T00:00:00Z", "2026-01-03T23:00:00Z"]


def test_export_of_a_removed_member_by_their_address(admin_client, log, member):
    email = member.email
    member.delete()
    rows = csv_rows(admin_client.post(EXPORT, {"format": "csv", "member": email}))
    assert [row["kind"] for row in rows] == ["sign_in", "code_failed", "totp_removed"]


def test_export_cells_that_would_be_formulas_are_defused(admin_client, account):
    logged("password_failed", at=day("2026-01-01"), account=account, email="=1+2@evil.test")
    logged("password_failed", at=day("2026-01-01"), account=account, email="-2+3@evil.test")
    logged("password_failed", at=day("2026-01-01"), account=account, email="@SUM(1)@evil.test")
    rows = csv_rows(admin_client.post(EXPORT, {"format": "csv", "kind": "password_failed"}))
    assert [row["member"] for row in rows] == [
        "'=1+2@evil.test",
        "'-2+3@evil.test",
        "'@SUM(1)@evil.test",
    ]


def test_export_is_a_security_event_with_its_filters(admin_client, account_admin, log):
    body(admin_client.post(EXPORT, {"format": "jsonl", "start": "2026-01-01", "kind": "sign_in"}))
    event = SecurityEvent.objects.get(kind="security_log_exported")
    assert event.user == account_admin and event.actor == account_admin
    assert event.account_id == account_admin.account_id
    assert event.detail == {
        "format": "jsonl",
        "start": "2026-01-01",
        "end": "",
        "member": "",
        "filter_kind": "sign_in",
    }
    html = admin_client.get(reverse("security:security")).content.decode()
    assert "Security log exported" in html


def test_security_page_offers_the_export(admin_client, member):
    html = admin_client.get(reverse("security:security")).content.decode()
    assert f'action="{EXPORT}"' in html
    assert "Export the security log" in html
    assert f'<option value="{member.email}">' in html


# --- Team isolation -----------------------------------------------------------------------


def other_team_client(other_admin) -> Client:
    client = Client()
    sign_in_with_link(client, other_admin.email)
    return client


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"kind": "sign_in"},
        {"start": "2026-01-01", "end": "2026-01-03"},
        {"account": "1", "account_id": "1", "team": "1"},
    ],
)
def test_export_of_another_team_never_shows_this_teams_events(log, other_log, other_admin, params):
    client = other_team_client(other_admin)
    rows = jsonl_rows(client.post(EXPORT, {"format": "jsonl", **params}))
    assert rows and {row["member"] for row in rows} == {other_admin.email}
    assert "203.0.113.7" not in {row["ip"] for row in rows}


def test_export_by_a_member_of_another_team_is_refused_as_an_unknown_address(
    log, other_log, other_admin, member
):
    client = other_team_client(other_admin)
    theirs = client.post(EXPORT, {"format": "csv", "member": member.email})
    nobody = client.post(EXPORT, {"format": "csv", "member": "nobody@nowhere.test"})
    assert theirs.status_code == nobody.status_code == HTTPStatus.BAD_REQUEST
    message = "Nobody in your team&#x27;s log has that email address."
    assert message in theirs.content.decode() and message in nobody.content.decode()
    assert member.email in theirs.content.decode()  # only as the value typed, in the field
    assert "203.0.113.7" not in theirs.content.decode()


# --- Who may export -----------------------------------------------------------------------


def test_export_refused_to_members(signed_in, log):
    assert signed_in.post(EXPORT, {"format": "csv"}).status_code == HTTPStatus.FORBIDDEN
    assert not SecurityEvent.objects.filter(kind="security_log_exported").exists()


def test_export_sends_anonymous_visitors_to_sign_in(client, log):
    response = client.post(EXPORT, {"format": "csv"})
    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("accounts:login"))


def test_export_asks_for_the_password_again_after_the_reauth_window(
    clock, admin_client, log, settings
):
    clock.advance(minutes=settings.TWOFACTOR_REAUTH_MINUTES + 1)
    response = admin_client.post(EXPORT, {"format": "csv", "kind": "sign_in"})
    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("security:reauth"))
    assert "next=%2Fsettings%2Fsecurity%2Fexport%2F" in response.url  # back to the form
    assert not SecurityEvent.objects.filter(kind="security_log_exported").exists()


def test_a_get_from_elsewhere_shows_the_form_and_exports_nothing(admin_client, log, settings):
    """A link or an image on another site sends a GET with the admin's cookie (SameSite=Lax
    allows a top-level one): it must not record an export, spend the budget or download."""
    settings.RATELIMIT_SECURITY_EXPORT = "1/h"
    for _ in range(3):
        response = admin_client.get(EXPORT, {"format": "csv", "kind": "sign_in"})
        assert response.status_code == HTTPStatus.OK
        assert "Content-Disposition" not in response
        assert 'method="post"' in response.content.decode()
    assert not SecurityEvent.objects.filter(kind="security_log_exported").exists()
    assert admin_client.post(EXPORT, {"format": "csv"}).status_code == HTTPStatus.OK


def test_the_export_needs_its_csrf_token(admin_client, log):
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = admin_client.cookies
    response = strict.post(EXPORT, {"format": "csv"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not SecurityEvent.objects.filter(kind="security_log_exported").exists()


def test_export_is_rate_limited_per_admin(admin_client, log, settings):
    settings.RATELIMIT_SECURITY_EXPORT = "2/h"
    statuses = [admin_client.post(EXPORT, {"format": "csv"}).status_code for _ in range(3)]
    assert statuses == [HTTPStatus.OK, HTTPStatus.OK, HTTPStatus.TOO_MANY_REQUESTS]
    assert SecurityEvent.objects.filter(kind="security_log_exported").count() == 2


# --- Bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"format": "csv", "end": "9999-12-31"}, "Enter a date from 2000-01-01 to"),
        ({"format": "csv", "start": "9999-12-31"}, "Enter a date from 2000-01-01 to"),
        ({"format": "csv", "start": "0001-01-01"}, "Enter a date from 2000-01-01 to"),
        ({"format": "csv", "start": "1999-12-31"}, "Enter a date from 2000-01-01 to"),
        ({"format": "csv", "start": "2026-02-30"}, "Enter a date as YYYY-MM-DD"),
        ({"format": "csv", "start": "01/02/2026"}, "Enter a date as YYYY-MM-DD"),
        ({"format": "csv", "end": "yesterday"}, "Enter a date as YYYY-MM-DD"),
        ({"format": "csv", "end": "9" * 5000}, "Enter a date as YYYY-MM-DD"),
        # Other scripts' digits: Python would read "２０２６" as the year 2026.
        ({"format": "csv", "start": "\uff12\uff10\uff12\uff16-01-02"}, "Enter a date as YYYY-MM-DD"),
        ({"format": "csv", "end": "\u0662\u0660\u0662\u0666-01-02"}, "Enter a date as YYYY-MM-DD"),
        ({"format": "csv", "end": "\U0001d7ee\U0001d7ec\U0001d7ee\U0001d7f2-01-02"}, "Enter a date as YYYY-MM-DD"),
        ({"format": "csv", "start": "2026-01-03", "end": "2026-01-02"}, "The end date is before"),
        ({"format": "csv", "kind": "nope"}, "Choose a kind from the list."),
        ({"format": "xlsx"}, "Choose CSV or JSON Lines."),
        ({}, "Choose CSV or JSON Lines."),
        ({"format": ["csv", "jsonl"]}, "Give one value."),
        ({"format": "csv", "kind": ["sign_in", "code_failed"]}, "Give one value."),
        ({"format": "csv", "member": "x" * 300}, "at most 254 characters"),
    ],
)
def test_export_bad_input_is_a_400_that_says_what_to_fix(admin_client, log, params, message):
    client = Client(raise_request_exception=False)
    client.cookies = admin_client.cookies
    response = client.post(EXPORT, params)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    html = response.content.decode()
    assert message in html
    assert 'id="export-heading"' in html  # the form again, to fix and retry
    assert not SecurityEvent.objects.filter(kind="security_log_exported").exists()


def test_export_dates_up_to_tomorrow_are_accepted(clock, admin_client, log):
    from django.utils import timezone

    tomorrow = (timezone.now() + datetime.timedelta(days=1)).date().isoformat()
    response = admin_client.post(EXPORT, {"format": "csv", "start": "2000-01-01", "end": tomorrow})
    assert len(csv_rows(response)) >= 4


# --- Reading in chunks --------------------------------------------------------------------


def test_events_for_export_reads_every_event_once_across_chunks_of_equal_times(account):
    for _ in range(10):
        logged("sign_in", at=day("2026-01-01"), account=account, email="a@acme.test")
    until = datetime.datetime(2027, 1, 1, tzinfo=UTC)
    chunks = list(events_for_export(account_id=account.pk, since=None, until=until, chunk_size=3))
    assert [len(chunk) for chunk in chunks] == [3, 3, 3, 1]
    ids = [values[1] for chunk in chunks for values in chunk]
    assert ids == sorted(ids) and len(set(ids)) == 10


def test_security_page_says_how_long_the_log_keeps_events(admin_client, settings):
    settings.TWOFACTOR_SECURITY_LOG_DAYS = 90
    html = admin_client.get(reverse("security:security")).content.decode()
    assert "Events are kept for 90 days." in html
