"""One security event as an exported row, and the two encodings. No request, no ORM."""

from __future__ import annotations

import csv
import datetime
import functools
import io
import json
from collections.abc import Iterable, Sequence

from security.models import SecurityEvent
from twofactor_site.net import device_name

# The columns, in order, of both formats (JSON Lines uses them as keys).
COLUMNS = ("time", "kind", "event", "member", "actor", "ip", "browser", "details")

# What a row is read from: SecurityEvent's fields, in this order (log.py selects them).
FIELDS = ("created_at", "id", "kind", "user_email", "actor_email", "ip", "user_agent", "detail")

# A spreadsheet runs a cell that starts with one of these as a formula (=HYPERLINK(...), a
# DDE call): OWASP's "CSV injection" list. Such a cell gets a leading apostrophe, which
# spreadsheets show as text and Python's csv keeps (so nothing is lost, only defused).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0", "＝", "＋", "－", "＠")

_LABELS = dict(SecurityEvent.Kind.choices)


def cell_safe(value: str) -> str:
    """``value`` as a CSV cell no spreadsheet evaluates."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def utc_iso(moment: datetime.datetime) -> str:
    """ISO 8601 in UTC to the second: ``2026-12-01T21:05:03Z``."""
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# A year of a team's log holds few distinct browsers: each user agent is parsed once per
# process, and the cache stays small whatever the log holds.
_browser = functools.lru_cache(maxsize=512)(device_name)


def event_row(values: Sequence) -> dict:
    """The exported row of one event, from its ``FIELDS`` values. Missing values are None."""
    created_at, _pk, kind, user_email, actor_email, ip, user_agent, detail = values
    return {
        "time": utc_iso(created_at),
        "kind": kind,
        "event": str(_LABELS.get(kind, kind)),
        "member": user_email or None,
        "actor": actor_email or None,
        "ip": ip or None,
        "browser": _browser(user_agent or "") or None,
        "details": detail or {},
    }


def csv_header() -> str:
    return _csv_lines([COLUMNS])


def csv_rows(rows: Iterable[dict]) -> str:
    """Rows as CSV lines (RFC 4180, every cell quoted and formula-safe); details as JSON."""
    return _csv_lines(
        [
            cell_safe(
                json.dumps(row[column], sort_keys=True, separators=(",", ":"))
                if column == "details"
                else row[column] or ""
            )
            for column in COLUMNS
        ]
        for row in rows
    )


def _csv_lines(lines: Iterable[Iterable[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL).writerows(lines)
    return buffer.getvalue()


def jsonl_rows(rows: Iterable[dict]) -> str:
    """Rows as JSON Lines: one object per line, ASCII only (no raw U+2028 for a reader to
    split on)."""
    return "".join(json.dumps(row, sort_keys=False) + "\n" for row in rows)
