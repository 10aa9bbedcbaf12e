"""`make run` and `make` say each thing once: no packaging warning, one REDIS_URL note."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE", "RUN_MAIN")
    }
    env.update(DJANGO_DEBUG="1", DATABASE_URL="sqlite:///:memory:")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_redis_note_only_from_the_dev_server():
    note = "REDIS_URL is not set"
    assert note not in _manage("check").stderr  # migrate, seed_demo: quiet
    assert _manage("runserver", "--help").stderr.count(note) == 1


def test_license_is_an_spdx_expression_setuptools_does_not_warn_about():
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^license = "MIT"$', text, re.MULTILINE)
    assert re.search(r'requires = \["setuptools>=(7[7-9]|[89]\d)', text)


def test_building_the_package_prints_no_setuptools_warning(tmp_path):
    """What pip builds on `make` (setuptools, in its own environment) says nothing about the
    license or the layout: the project as git has it, built verbosely, output read."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in ("twofactor_site", "accounts", "security"):
        shutil.copytree(
            ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(tmp_path), "."],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    output = built.stdout + built.stderr
    assert list(tmp_path.glob("twofactor-*.whl"))
    # BuildBackendWarning, SetuptoolsDeprecationWarning... (pip's own "warning: build_py:
    # byte-compiling is disabled" is no fault of ours)
    for warning in ("Warning", "deprecated"):
        assert warning not in output, [line for line in output.splitlines() if warning in line]
