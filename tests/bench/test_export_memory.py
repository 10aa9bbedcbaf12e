"""`make bench-export` keeps working as the code changes: a small run seeds, exports through
the real view in fresh processes, counts every row, and reports against its target."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_bench_export_runs_and_reports_the_target(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    done = subprocess.run(
        [sys.executable, "bench/export_memory.py", "--events", "300", "--format", "csv"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| csv | full | 30" in done.stdout  # 300 seeded, and the set-up's own few
    assert "(target < 50) ok" in done.stdout
