"""Our code sets off no deprecation warning of the Django it runs on (Django 6 deprecates
``django.core.mail.BadHeaderError``: the mail worker catches the ValueError it now is). The
EMAIL_* settings are kept on purpose (pyproject.toml's filterwarnings says why)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

IMPORT_EVERYTHING = """
import importlib, json, pkgutil, warnings
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import django
    django.setup()
    for package in ("accounts", "security", "twofactor_site"):
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, package + "."):
            if ".migrations." not in info.name:
                importlib.import_module(info.name)
deprecations = (DeprecationWarning, PendingDeprecationWarning)
print(json.dumps([
    f"{w.filename}:{w.lineno}: {w.message}"
    for w in caught
    if issubclass(w.category, deprecations) and not str(w.message).startswith("The EMAIL_")
]))
"""


def test_importing_our_code_sets_off_no_django_deprecation_warning():
    env = {**os.environ, "DJANGO_DEBUG": "1", "DJANGO_SETTINGS_MODULE": "twofactor_site.settings"}
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERYTHING],
        cwd=str(Path(__file__).resolve().parents[2]),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
