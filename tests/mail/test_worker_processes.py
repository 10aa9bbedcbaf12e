"""The mail worker as production runs it (`manage.py mail_worker`, production settings), on
this test's PostgreSQL database, against a real SMTP server the test starts: a mail server
down for a while, 4xx then 2xx, a 5xx, a worker SIGKILLed in the middle of a send, and its
PostgreSQL connections ended under it. Retries and the visibility timeout are seconds here
(settings), so nothing waits for minutes."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.urls import reverse

from security.models import SecurityEvent
from tests.conftest import password_step, processes_stop
from tests.hardening.conftest import PYTHON, REPO, production_env
from twofactor_site.mail import email_send_later
from twofactor_site.mail.models import OutgoingEmail

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

Status = OutgoingEmail.Status
VISIBILITY_SECONDS = 3


def _database_url() -> str:
    db = connection.settings_dict  # the test database
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_until(predicate: Callable[[], bool], *, timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s: {what}")


@pytest.fixture
def start_worker(settings, smtp_server, tmp_path) -> Iterator[Callable[[], subprocess.Popen]]:
    """Start a mail worker process (as many as a test wants); all are stopped at the end."""
    key = Fernet.generate_key().decode()
    settings.TWOFACTOR_ENCRYPTION_KEYS = [key]  # the worker decrypts what this process queues
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    env = production_env(
        DATABASE_URL=_database_url(),
        TWOFACTOR_ENCRYPTION_KEYS=key,
        TWOFACTOR_TASKS_BACKEND="database",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_server.port),
        EMAIL_USE_TLS="0",
        EMAIL_TIMEOUT="5",
        TWOFACTOR_EMAIL_RETRY_SECONDS="1",
        TWOFACTOR_EMAIL_ORDER_WAIT_SECONDS="0",
        TWOFACTOR_EMAIL_VISIBILITY_SECONDS=str(VISIBILITY_SECONDS),
    )
    processes: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        log = open(tmp_path / f"worker-{len(processes)}.log", "w")  # noqa: SIM115
        process = subprocess.Popen(  # noqa: S603
            [PYTHON, "manage.py", "mail_worker", "--interval", "0.1"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        return process

    yield start
    processes_stop(processes)


def _status(email: OutgoingEmail) -> str:
    email.refresh_from_db()
    return email.status


def test_smtp_down_then_back_every_email_arrives_in_order_per_member(
    member, account_admin, smtp_server, start_worker
):
    names = ["factor-added", "recovery-codes-regenerated", "factor-removed"]
    rows = [
        email_send_later(to=[member.email], name=name, context={"user": member})[0]
        for name in names
    ]
    rows += email_send_later(
        to=[account_admin.email], name="factor-added", context={"user": account_admin}
    )
    start_worker()
    wait_until(lambda: _status(rows[0]) == Status.RETRYING, what="a first failed try")
    time.sleep(1.5)  # down a while longer: another try or two fail
    smtp_server.start()
    wait_until(lambda: all(_status(row) == Status.SENT for row in rows), what="every email sent")
    received = smtp_server.handler.received()
    assert len(received) == 4
    to_member = [subject for to, subject in received if to == member.email]
    assert to_member == [
        "Twofactor: authenticator app added",
        "Twofactor: new recovery codes",
        "Twofactor: authenticator app removed",
    ]
    assert rows[0].attempts >= 2


def test_a_4xx_is_retried_and_then_delivered(member, smtp_server, start_worker):
    smtp_server.start()
    smtp_server.handler.replies = ["451 4.3.0 Try again later"]
    (row,) = email_send_later(to=[member.email], name="factor-added", context={"user": member})
    start_worker()
    wait_until(lambda: _status(row) == Status.SENT, what="sent after a 451")
    assert row.attempts == 2
    assert len(smtp_server.handler.messages) == 1


def test_a_5xx_fails_and_the_member_is_told(client, member, smtp_server, start_worker):
    smtp_server.start()
    smtp_server.handler.replies = ["550 5.1.1 No such mailbox"]
    start_worker()
    password_step(client, member.email)
    row = OutgoingEmail.objects.get(recipient=member.email)
    wait_until(lambda: _status(row) == Status.FAILED, what="failed after a 550")
    assert row.last_error == "SMTPDataError 550"
    assert SecurityEvent.objects.filter(kind="email_failed", user=member).exists()
    page = client.get(reverse("accounts:login-email-sent")).content.decode()
    assert "We could not send the email" in page
    assert not smtp_server.handler.messages


def test_a_worker_killed_mid_send_loses_nothing(member, smtp_server, start_worker):
    smtp_server.start()
    smtp_server.handler.hold = True  # the first send stops half-way, at RCPT
    (row,) = email_send_later(to=[member.email], name="factor-added", context={"user": member})
    first = start_worker()
    assert smtp_server.handler.holding.wait(timeout=30)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    smtp_server.handler.release.set()
    assert _status(row) == Status.QUEUED
    start_worker()  # after the visibility timeout, it takes the dead worker's task
    wait_until(lambda: _status(row) == Status.SENT, timeout=VISIBILITY_SECONDS + 30, what="sent")
    assert len(smtp_server.handler.messages) == 1


def test_the_worker_reconnects_after_its_database_connections_are_ended(
    member, smtp_server, start_worker
):
    smtp_server.start()
    worker = start_worker()
    (first,) = email_send_later(to=[member.email], name="factor-added", context={"user": member})
    wait_until(lambda: _status(first) == Status.SENT, what="the first email")
    with connection.cursor() as cursor:  # what a PostgreSQL restart does to its clients
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchone()[0] >= 1
    (second,) = email_send_later(to=[member.email], name="factor-removed", context={"user": member})
    wait_until(lambda: _status(second) == Status.SENT, what="an email after the reconnect")
    assert worker.poll() is None
    assert len(smtp_server.handler.messages) == 2
