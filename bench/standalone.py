"""The start of the one-process benchmarks (bench/run.py, bench/mail.py): Django set up with
the dev defaults (DJANGO_DEBUG=1) on a fresh SQLite file of their own, unless DATABASE_URL
names another database."""

from __future__ import annotations

import os
import tempfile


def django_setup(*, db_prefix: str) -> None:
    """Set Django up for a benchmark run; its SQLite file goes in a new ``db_prefix`` folder."""
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twofactor_site.settings")
    db_dir = tempfile.mkdtemp(prefix=db_prefix)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{db_dir}/bench.sqlite3")
    import django

    django.setup()
