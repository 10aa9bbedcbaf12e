"""`make bench-export`: the memory a security log export takes, with an empty log and a full one.

Seeds a team of 500 members and N security events (100,000 by default) spread over a year,
then exports them through the real view (the Security page's CSV and JSON Lines download,
signed in as the team's Account Admin by the emailed link, with the real middleware) and reads
the streamed answer chunk by chunk, as a browser would, keeping none of it. Each export runs
in a fresh process, once against the empty log and once against the full one, and reports
that process's peak resident memory (the kernel's high-water mark, which counts the database
driver's C buffers too) and the peak of Python's own allocations during the export
(tracemalloc). The issue's target: the full log costs under 50 MiB more than the empty one.
A miss exits 1. Not timed: the seconds are printed, never judged.

The database is a SQLite file of its own, or, when DATABASE_URL names PostgreSQL on this
machine, a database of its own on that server (``<name>_export_bench``, made and dropped).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "benchmark passphrase export"
ADMIN = "admin@export-bench.test"
MEMBERS = 500
# The target: a full log's export under this much more memory than an empty one's.
TARGET_EXTRA_MIB = 50

USER_AGENTS = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.2 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
)
KINDS = (
    ("sign_in", {"method": "totp"}),
    ("sign_in", {"method": "email_link"}),
    ("link_sent", {}),
    ("password_failed", {"known_browser": True}),
    ("code_failed", {}),
    ("sign_out", {}),
)


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twofactor_site.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.test.utils import setup_test_environment

    setup_test_environment()  # emails to an in-memory outbox
    settings.DEBUG = False  # DJANGO_DEBUG=1 only supplied the dev defaults; measure production
    import logging

    for logger in ("twofactor.security", "django.request"):
        logging.getLogger(logger).setLevel(logging.ERROR)


# --- Child processes: each step in a process of its own ----------------------------------


def child_setup() -> dict:
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from accounts.models import User
    from accounts.services import account_create

    call_command("migrate", verbosity=0)
    account, _admin = account_create(
        name="Export bench", admin_email=ADMIN, admin_password=PASSWORD
    )
    hashed = make_password(None)
    User.objects.bulk_create(
        User(email=f"m{n}@export-bench.test", password=hashed, account=account)
        for n in range(MEMBERS)
    )
    return {"members": MEMBERS}


def child_seed(events: int) -> dict:
    from django.utils import timezone

    from accounts.models import Account, User
    from security.models import SecurityEvent

    account = Account.objects.get(name="Export bench")
    members = list(User.objects.filter(account=account).values_list("pk", "email"))
    now = timezone.now()
    spacing = datetime.timedelta(days=365) / events
    batch = []
    for n in range(events):
        user_id, email = members[n % len(members)]
        kind, detail = KINDS[n % len(KINDS)]
        batch.append(
            SecurityEvent(
                kind=kind,
                created_at=now - datetime.timedelta(days=366) + n * spacing,
                account=account,
                user_id=user_id,
                user_email=email,
                ip=f"203.0.113.{n % 250 + 1}",
                user_agent=USER_AGENTS[n % len(USER_AGENTS)],
                detail=detail,
            )
        )
        if len(batch) == 5000:
            SecurityEvent.objects.bulk_create(batch)
            batch = []
    SecurityEvent.objects.bulk_create(batch)
    return {"events": SecurityEvent.objects.filter(account=account).count()}


def rss_kib() -> int:
    """This process's resident memory now (Linux), or its high-water mark elsewhere."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def child_export(export_format: str) -> dict:
    from django.core import mail
    from django.test import Client
    from django.urls import reverse

    client = Client()
    answer = client.post(reverse("accounts:login"), {"email": ADMIN, "password": PASSWORD})
    assert answer.status_code == 302, answer.status_code
    token = mail.outbox[-1].body.split("/login/link/")[1].split("/")[0]
    client.get(reverse("accounts:login-link-token", args=[token]))
    answer = client.post(reverse("accounts:login-link"))
    assert answer.status_code == 302, answer.status_code
    before_kib = peak_kib = rss_kib()
    tracemalloc.start()
    started = time.perf_counter()
    response = client.post(reverse("security:security-export"), {"format": export_format})
    assert response.status_code == 200, response.status_code
    size = lines = 0
    for chunk in response.streaming_content:  # read as it streams, keep nothing
        size += len(chunk)
        lines += chunk.count(b"\n")
        peak_kib = max(peak_kib, rss_kib())
    response.close()
    seconds = time.perf_counter() - started
    _current, python_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "rss_before_kib": before_kib,
        "rss_peak_kib": peak_kib,
        "python_peak_kib": python_peak // 1024,
        "bytes": size,
        "lines": lines,
        "seconds": round(seconds, 2),
    }


def child(step: str, arg: str) -> None:
    django_setup()
    if step == "setup":
        result = child_setup()
    elif step == "seed":
        result = child_seed(int(arg))
    else:
        result = child_export(arg)
    print(json.dumps(result))


# --- The run ------------------------------------------------------------------------------


def run_child(env: dict[str, str], step: str, arg: str = "") -> dict:
    done = subprocess.run(  # noqa: S603 - this file, with arguments of our own
        [sys.executable, __file__, "--child", step, arg],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{step} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def mib(kib: int) -> float:
    return kib / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000, help="events to seed")
    parser.add_argument("--format", choices=("csv", "jsonl"), action="append", dest="formats")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return 0
    formats = args.formats or ["csv", "jsonl"]

    # The cache of each process is its own (local memory): rate limits start afresh.
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"} | {"DJANGO_DEBUG": "1"}
    database = directory = None
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://", "pgsql://")):
        sys.path.insert(0, str(ROOT))
        from bench.load import Database

        database = Database(url, suffix="_export_bench")
        database.create()
        env["DATABASE_URL"] = database.url
        where = f"PostgreSQL database {database.name}"
    else:
        directory = tempfile.mkdtemp(prefix="twofactor-export-bench-")
        env["DATABASE_URL"] = f"sqlite:///{directory}/bench.sqlite3"
        where = "a SQLite file"
    try:
        run_child(env, "setup")
        empty = {fmt: run_child(env, "export", fmt) for fmt in formats}
        seeded = run_child(env, "seed", str(args.events))
        full = {fmt: run_child(env, "export", fmt) for fmt in formats}
    finally:
        if database is not None:
            database.drop()
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)

    print(
        f"Security log export, {seeded['events']:,} events of a {MEMBERS}-member team over a "
        f"year, on {where}, Python {sys.version.split()[0]}:"
    )
    print()
    print(
        "| format | log | rows | MiB written | seconds | RSS before MiB | RSS peak MiB "
        "| Python peak MiB |"
    )
    print("|---|---|---|---|---|---|---|---|")
    missed = False
    for fmt in formats:
        for name, result in (("empty", empty[fmt]), ("full", full[fmt])):
            rows = result["lines"] - (1 if fmt == "csv" else 0)
            print(
                f"| {fmt} | {name} | {rows:,} | {result['bytes'] / 2**20:.1f} "
                f"| {result['seconds']} | {mib(result['rss_before_kib']):.1f} "
                f"| {mib(result['rss_peak_kib']):.1f} "
                f"| {mib(result['python_peak_kib']):.1f} |"
            )
        extra = mib(full[fmt]["rss_peak_kib"] - empty[fmt]["rss_peak_kib"])
        rows = full[fmt]["lines"] - (1 if fmt == "csv" else 0)
        if rows < seeded["events"]:
            print(f"{fmt}: only {rows} rows of {seeded['events']} exported")
            missed = True
        if extra >= TARGET_EXTRA_MIB:
            missed = True
        verdict = "MISSED" if extra >= TARGET_EXTRA_MIB else "ok"
        print(
            f"| {fmt} | full − empty | | | | | **{extra:+.1f}** "
            f"(target < {TARGET_EXTRA_MIB}) {verdict} | |"
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
