"""`make bench-load` keeps working as the code changes: a short run against real gunicorn,
PostgreSQL and Redis completes sign-ins of both kinds with every answer checked, and the
driver calls a wrong answer an error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.load import Answer, BenchError, expect, sql_summary

REPO = Path(__file__).resolve().parents[2]


def _answer(status=200, location="", body="") -> Answer:
    return Answer(status=status, location=location, body=body, sql={}, app_cpu_us=0, seconds=0)


def test_expect_wrong_status_is_an_error():
    with pytest.raises(BenchError, match="status 403, expected 302"):
        expect("link POST", _answer(403), 302)


def test_expect_wrong_redirect_is_an_error():
    with pytest.raises(BenchError, match="redirected to '/login/'"):
        expect("code POST", _answer(302, "/login/"), 302, location="/")


def test_expect_missing_text_is_an_error():
    with pytest.raises(BenchError, match="does not contain"):
        expect("signed-in page", _answer(200, body="Sign in"), 200, text="app1@bench.test")


def test_sql_summary_names_transactions_and_health_checks_apart():
    samples = [{"sql": 4, "hc": 1, "sp": 0, "tx": 1}] * 3
    assert sql_summary(samples) == "4 +1tx +1hc"
    assert sql_summary([*samples, {"sql": 5, "hc": 1, "sp": 0, "tx": 1}]) == "4 +1tx +1hc*"


@pytest.mark.postgres
def test_bench_load_short_run_signs_in_with_both_flows(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(  # noqa: S603
        [
            sys.executable,
            "bench/load.py",
            "--hasher", "fast",
            "--workers", "1",
            "--clients", "2",
            "--seconds", "1",
            "--members", "30",
            "--out", str(tmp_path),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for row in ("| fast | 1 | TOTP |", "| fast | 1 | email link |", "| fast | 1 | bare view"):
        assert row in result.stdout
    assert "wrong answers" not in result.stdout
