"""`make bench-mail`: the password step's latency when the mail server takes 2 s to answer.

The request queues its email (two INSERTs); the worker renders and sends it. So the password
step must not grow by the mail server's delay, and a password reset must cost the same for a
known address (mailed) as for an unknown one (not mailed). For contrast, the same step with
the immediate backend (the email sent inside the request, as debug does) is timed too.

Runs in one process on a fresh SQLite file (or DATABASE_URL), with a real SMTP server
(aiosmtpd, from the test extra) on loopback that waits SMTP_DELAY seconds before each reply
to DATA. Exits 1 when a queued step's median grows by half the delay or more.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.standalone import django_setup  # noqa: E402

django_setup(db_prefix="twofactor-bench-mail-")

from aiosmtpd.controller import Controller  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import reverse  # noqa: E402

from twofactor_site import settings as site_settings  # noqa: E402

SMTP_DELAY = float(os.environ.get("BENCH_SMTP_DELAY", "2"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "10"))
PASSWORD = "benchmark passphrase 2fa"
DATABASE_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


class SlowHandler:
    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(SMTP_DELAY)
        self.received += 1
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def timed(fn, rounds: int) -> list[float]:
    fn()  # warm up: templates, URLs, connections
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def line(name: str, samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"| {name} | {len(samples)} | {statistics.median(samples):.1f} | {p95:.1f} |"


def main() -> int:
    settings.DEBUG = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # not timed here
    for name in dir(settings):
        value = getattr(settings, name)
        if name.startswith("RATELIMIT_") and isinstance(value, str) and "/" in value:
            setattr(settings, name, "1000000/s")
    for logger in ("twofactor.security", "twofactor.email", "django.request"):
        logging.getLogger(logger).setLevel(logging.ERROR)
    handler = SlowHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = int(SMTP_DELAY * 5)
    call_command("migrate", verbosity=0)

    from accounts.services import account_create
    from twofactor_site.mail.models import OutgoingEmail
    from twofactor_site.mail.worker import tasks_run_ready

    _account, user = account_create(
        name="Bench", admin_email="bench@bench.test", admin_password=PASSWORD
    )
    login = reverse("accounts:login")
    reset = reverse("accounts:password-reset")

    def password_step() -> None:
        response = Client().post(login, {"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, response.status_code

    def reset_for(address: str):
        def post() -> None:
            assert Client().post(reset, {"email": address}).status_code == 302

        return post

    with override_settings(TASKS=DATABASE_BACKEND):
        rows = [
            line("password step, email queued", timed(password_step, ROUNDS)),
            line("password reset, known address", timed(reset_for(user.email), ROUNDS)),
            line("password reset, unknown address", timed(reset_for("nobody@bench.test"), ROUNDS)),
        ]
        start = time.perf_counter()
        tasks_run_ready()
        drained = time.perf_counter() - start
    sent = OutgoingEmail.objects.filter(status=OutgoingEmail.Status.SENT).count()
    expected = 2 * (ROUNDS + 1)  # the password steps' links and the known address's resets
    with override_settings(
        TASKS={"default": {"BACKEND": site_settings._TASK_BACKENDS["immediate"]}}
    ):
        inline = timed(password_step, 1)
    controller.stop()

    print(f"Mail server: aiosmtpd on loopback, {SMTP_DELAY:g} s before each reply to DATA.")
    print("| step | requests | median ms | p95 ms |")
    print("|---|---|---|---|")
    print("\n".join(rows))
    print(line("password step, email sent in the request (immediate backend)", inline))
    print(f"\nThe worker then sent {sent} of {expected} emails in {drained:.1f} s.")

    medians = [float(row.split("|")[3]) for row in rows]
    grown = medians[0] >= SMTP_DELAY * 1000 / 2
    uneven = abs(medians[1] - medians[2]) >= SMTP_DELAY * 1000 / 2
    if grown or uneven or sent != expected:
        print("FAILED: the request waited for the mail server, or mail was lost.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
