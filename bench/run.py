"""`make bench`: how fast and how lean sign-in is, against named targets.

Runs in one process against a fresh database (SQLite file by default, or DATABASE_URL) and
the configured cache, with the real password hasher (Argon2id at the configured cost), real
middleware and real templates. Each step is timed over many requests; the report gives the
median and 95th percentile, SQL queries per request (transaction statements, BEGIN and
COMMIT, are counted apart), and the peak Python memory a request allocates.

Query counts and memory do not depend on how busy the machine is: a missed target there makes
the run exit 1. Times do: on a loaded machine they miss their targets, so a slow step is
flagged but fails the run only with --strict. Every report names its date, machine and load;
--readme writes it into README.md, so the table there is always one this command printed.

Rate limits are raised for the run (the benchmark would otherwise trip them by design).
For whole sign-ins against gunicorn, PostgreSQL and Redis, see bench/load.py.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.standalone import django_setup  # noqa: E402

django_setup(db_prefix="twofactor-bench-")

import pyotp  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core import mail  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from security.totp import codes as totp  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "200"))
PASSWORD = "benchmark passphrase 2fa"

# Targets, per request, on the 2-core machine CI uses. Medians and p95 in milliseconds.
TARGETS_MS = {
    "totp match (pure)": 0.5,
    "password step (Argon2id)": 150.0,  # Argon2id at 19 MiB, t=2 is most of it
    "email-link landing GET": 15.0,
    "email-link sign-in POST": 20.0,
    "code step POST": 20.0,
    "signed-in home page": 10.0,
}
TARGET_QUERIES = {
    "password step (Argon2id)": 8,
    "email-link landing GET": 3,
    "email-link sign-in POST": 6,
    "code step POST": 5,
    "signed-in home page": 3,
}
# Python allocations of one request at its peak (median); Argon2's 19 MiB is C memory and
# is not counted here.
TARGET_PEAK_KIB = 2048


README = ROOT / "README.md"
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"
TRANSACTION_STATEMENTS = ("BEGIN", "COMMIT", "ROLLBACK")


def counted(queries: CaptureQueriesContext) -> tuple[int, int]:
    """Statements and transactions in what Django logged (it logs BEGIN and COMMIT too)."""
    logged = [q["sql"] for q in queries.captured_queries]
    statements = sum(sql not in TRANSACTION_STATEMENTS for sql in logged)
    return statements, logged.count("BEGIN")


def timed(fn, rounds: int) -> tuple[list[float], int, int, int]:
    """Run fn rounds times after one warm-up (imports, template compilation); return the
    durations (ms), the most queries (BEGIN/COMMIT apart), the most transactions, and the
    largest peak KiB of one run."""
    fn()
    durations, max_queries, max_transactions = [], 0, 0
    tracemalloc.start()
    peaks = []
    for _ in range(rounds):
        tracemalloc.reset_peak()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            fn()
            durations.append((time.perf_counter() - started) * 1000)
        statements, transactions = counted(queries)
        max_queries = max(max_queries, statements)
        max_transactions = max(max_transactions, transactions)
        current, peak = tracemalloc.get_traced_memory()
        peaks.append(peak - current)
    tracemalloc.stop()
    return durations, max_queries, max_transactions, int(statistics.median(peaks)) // 1024


def machine() -> str:
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(
                (line.split(":", 1)[1].strip() for line in f if line.startswith("model name")),
                "?",
            )
    except OSError:
        pass
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{model}, {os.cpu_count()} cores, load average {load}, Python {platform.python_version()}"


def readme_write(text: str) -> None:
    readme = README.read_text()
    start, end = readme.find(README_START), readme.find(README_END)
    if start < 0 or end < start:
        raise SystemExit(f"README.md has no {README_START} … {README_END} block")
    README.write_text(readme[: start + len(README_START)] + "\n" + text + "\n" + readme[end:])


def main() -> int:
    parser = argparse.ArgumentParser(description="Sign-in steps in one process, with targets.")
    parser.add_argument("--strict", action="store_true", help="a slow step fails the run too")
    parser.add_argument("--readme", action="store_true", help="write the table into README.md")
    args = parser.parse_args()
    setup_test_environment()  # emails to an in-memory outbox
    settings.DEBUG = False  # DJANGO_DEBUG=1 only supplied the dev defaults; measure production
    for logger in ("twofactor.security", "django.request"):
        logging.getLogger(logger).setLevel(logging.ERROR)
    for name in dir(settings):
        if (
            name.startswith("RATELIMIT_")
            and isinstance(getattr(settings, name), str)
            and "/" in getattr(settings, name)
        ):
            setattr(settings, name, "1000000/s")
    call_command("migrate", verbosity=0)
    from accounts.models import User
    from accounts.services import account_create
    from security.events import NO_AUDIT
    from security.totp import services

    _account, user = account_create(
        name="Bench", admin_email="bench@bench.test", admin_password=PASSWORD
    )
    _account, app_user = account_create(
        name="Bench2", admin_email="app@bench.test", admin_password=PASSWORD
    )

    services.totp_enrollment_start(user=app_user)
    secret = services.device_secret(services.enrollment_device(user=app_user))
    services.totp_device_confirm(
        audit=NO_AUDIT, user=app_user, code=totp.code_at(secret, totp.time_step(time.time()) - 1)
    )

    results: dict[str, tuple[list[float], int, int, int]] = {}

    code = pyotp.TOTP(secret).now()
    results["totp match (pure)"] = timed(
        lambda: totp.match_step(secret, code, at=time.time()), ROUNDS * 10
    )

    def password_step() -> None:
        response = Client().post(
            reverse("accounts:login"), {"email": user.email, "password": PASSWORD}
        )
        assert response.status_code == 302, response.status_code

    results["password step (Argon2id)"] = timed(password_step, max(ROUNDS // 10, 10))

    # Email link: one member per round (a newer link retires the member's older ones), each
    # with a pending login and the link's token in its session, prepared outside the timing.
    from django.contrib.auth.hashers import make_password

    hashed = make_password(PASSWORD)
    members = User.objects.bulk_create(
        User(email=f"m{n}@bench.test", password=hashed, account=user.account)
        for n in range(ROUNDS + 1)
    )
    clients = []
    for member in members:
        client = Client()
        client.post(reverse("accounts:login"), {"email": member.email, "password": PASSWORD})
        token = mail.outbox[-1].body.split("/login/link/")[1].split("/")[0]
        client.get(reverse("accounts:login-link-token", args=[token]))
        clients.append(client)
    it = iter(clients)
    results["email-link landing GET"] = timed(
        lambda: next(it).get(reverse("accounts:login-link")), ROUNDS
    )
    it = iter(clients)

    def link_post():
        response = next(it).post(reverse("accounts:login-link"))
        assert response.status_code == 302, response.status_code

    results["email-link sign-in POST"] = timed(link_post, ROUNDS)
    signed_in = clients[0]
    results["signed-in home page"] = timed(lambda: signed_in.get(reverse("home")), ROUNDS)

    # Code step: each round needs a fresh time step (a code is accepted once), so move the
    # device's last accepted step back before each round, outside the timing.
    from security.models import TOTPDevice

    # The member's own browser, as at most sign-ins: one that signed in as them before (a new
    # browser's sign-in also renders and sends the "new sign-in" email, measured apart from
    # the code step by the tests, not here).
    home = Client()
    home.post(reverse("accounts:login"), {"email": app_user.email, "password": PASSWORD})
    response = home.post(reverse("accounts:login-code"), {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302, response.status_code
    known = home.cookies[settings.TWOFACTOR_KNOWN_BROWSER_COOKIE_NAME].value
    code_clients = []
    for _ in range(ROUNDS + 1):  # one more for the warm-up
        client = Client()
        client.cookies[settings.TWOFACTOR_KNOWN_BROWSER_COOKIE_NAME] = known
        client.post(reverse("accounts:login"), {"email": app_user.email, "password": PASSWORD})
        code_clients.append(client)
    it = iter(code_clients)

    def code_post():
        TOTPDevice.objects.filter(user=app_user).update(last_used_step=None)
        response = next(it).post(reverse("accounts:login-code"), {"code": pyotp.TOTP(secret).now()})
        assert response.status_code == 302, response.status_code

    durations, queries, transactions, peak = timed(code_post, ROUNDS)
    results["code step POST"] = (durations, queries - 1, transactions, peak)  # minus the reset

    failed, slow = [], []
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cache_backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    header = (
        f"`make bench`, {when}, {ROUNDS} rounds, database {connection.vendor}, cache "
        f"{cache_backend}, on {machine()}. Queries: SQL statements per request, BEGIN and "
        "COMMIT not counted (`tx`: transactions). Peak: Python memory one request allocates."
    )
    rows = [
        "| step | median ms | p95 ms | target ms | queries | tx | peak KiB | missed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, (durations, queries, transactions, peak) in results.items():
        median = statistics.median(durations)
        p95 = statistics.quantiles(durations, n=20)[-1] if len(durations) >= 20 else max(durations)
        target = TARGETS_MS[name]
        query_target = TARGET_QUERIES.get(name)
        flags = []
        if median > target:
            flags.append("SLOW")
            slow.append(name)
        if query_target is not None and queries > query_target:
            flags.append(f"QUERIES>{query_target}")
            failed.append(f"{name}: more than {query_target} queries")
        if name != "totp match (pure)" and peak > TARGET_PEAK_KIB:
            flags.append("MEMORY")
            failed.append(f"{name}: more than {TARGET_PEAK_KIB} KiB")
        rows.append(
            f"| {name} | {median:.2f} | {p95:.2f} | {target:g} | {queries} | {transactions} | "
            f"{peak} | {' '.join(flags)} |"
        )
    report = header + "\n\n" + "\n".join(rows)
    print(report)
    if slow:
        print(
            f"slower than target: {', '.join(slow)} (times depend on the machine's load; "
            "--strict makes this fail)"
        )
        if args.strict:
            failed += [f"{name}: slow" for name in slow]
    if failed:
        print("missed targets:", "; ".join(failed))
        return 1
    if args.readme:
        readme_write(report)
        print("README.md updated")
    print("all query and memory targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
