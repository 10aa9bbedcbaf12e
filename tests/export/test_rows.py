import csv
import datetime
import io
import json

import pytest

from security.export import rows

CHROME_ON_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
MOMENT = datetime.datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=datetime.timezone.utc)


def values(**overrides):
    base = {
        "created_at": MOMENT,
        "id": 1,
        "kind": "sign_in",
        "user_email": "mia@acme.test",
        "actor_email": "",
        "ip": "203.0.113.7",
        "user_agent": CHROME_ON_LINUX,
        "detail": {"method": "totp"},
    }
    base.update(overrides)
    return tuple(base[name] for name in rows.FIELDS)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r", "\n", "\0", "＝", "＠"])
def test_cell_safe_neutralises_every_formula_start(start):
    assert (
        rows.cell_safe(f'{start}HYPERLINK("http://evil")') == f'\'{start}HYPERLINK("http://evil")'
    )


@pytest.mark.parametrize("text", ["mia@acme.test", "2026-01-01T00:00:00Z", "", "{}", "a=b"])
def test_cell_safe_leaves_plain_cells_alone(text):
    assert rows.cell_safe(text) == text


def test_event_row_names_time_in_utc_kind_and_browser():
    row = rows.event_row(values())
    assert row == {
        "time": "2026-03-04T05:06:07Z",
        "kind": "sign_in",
        "event": "Signed in",
        "member": "mia@acme.test",
        "actor": None,
        "ip": "203.0.113.7",
        "browser": "Chrome on Linux",
        "details": {"method": "totp"},
    }


def test_event_row_time_from_another_zone_is_said_in_utc():
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    row = rows.event_row(values(created_at=MOMENT.astimezone(plus_two)))
    assert row["time"] == "2026-03-04T05:06:07Z"


def test_event_row_of_a_kind_no_longer_known_keeps_its_name():
    assert rows.event_row(values(kind="retired_kind"))["event"] == "retired_kind"


def test_csv_rows_parse_back_with_formulas_defused():
    hostile = values(user_email="=cmd|' /C calc'!A0@x.test", detail={"reason": '+1,\n"quoted"'})
    text = rows.csv_header() + rows.csv_rows([rows.event_row(hostile)])
    header, line = list(csv.reader(io.StringIO(text, newline="")))
    assert header == list(rows.COLUMNS)
    cells = dict(zip(header, line, strict=True))
    assert cells["member"] == "'=cmd|' /C calc'!A0@x.test"
    assert json.loads(cells["details"]) == {"reason": '+1,\n"quoted"'}
    assert cells["actor"] == ""


def test_jsonl_rows_are_one_ascii_object_per_line():
    text = rows.jsonl_rows([rows.event_row(values(detail={"name": "Zoë\u2028"}))] * 2)
    lines = text.split("\n")
    assert lines[-1] == "" and len(lines) == 3
    assert all(line.isascii() for line in lines)
    assert json.loads(lines[0])["details"] == {"name": "Zoë\u2028"}
