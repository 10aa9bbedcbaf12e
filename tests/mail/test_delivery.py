"""Every email through the queue: committed with its change, sealed, retried, kept in order,
failed for good on a 5xx (admin, security log, "Check your email"). The worker runs in this
process here (``mail_queue.run()``); tests/mail/test_worker_processes.py runs it for real."""

from __future__ import annotations

import json
import logging
import re
from http import HTTPStatus

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.sign_in_links import sign_in_link_send
from security.events import Audit
from security.models import SecurityEvent
from tests.conftest import link_from_outbox, password_step
from twofactor_site.mail import email_send_later
from twofactor_site.mail.models import OutgoingEmail

AUDIT = Audit(ip="127.0.0.1", user_agent="tests")
Status = OutgoingEmail.Status


def _notice(user, n: int) -> None:
    email_send_later(to=[user.email], name="factor-added", context={"user": user, "n": n})


def test_an_email_is_queued_with_its_change_or_not_at_all(client, member, mail_queue):
    class Crash(Exception):
        pass

    with pytest.raises(Crash), transaction.atomic():
        password_step(client, member.email)  # the link, its email and its task...
        raise Crash  # ...and the request's transaction dies before it commits
    assert not OutgoingEmail.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_a_queued_link_is_sealed_and_its_task_names_only_the_row(client, member, mail_queue):
    password_step(client, member.email)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM mail_outgoingemail")
        rows = repr(cursor.fetchall())
        cursor.execute("SELECT args_kwargs FROM django_tasks_database_dbtaskresult")
        tasks = repr(cursor.fetchall())
    mail_queue.run()
    token = link_from_outbox().rstrip("/").rsplit("/", 1)[-1]
    assert token not in rows and "/login/link/" not in rows
    assert token not in tasks
    (email,) = OutgoingEmail.objects.all()
    assert DBTaskResult.objects.get().args_kwargs == {"args": [email.pk], "kwargs": {}}


def test_a_4xx_is_retried_after_a_minute_then_sent(
    member, mail_queue, smtp_server, clock, settings
):
    settings.TWOFACTOR_EMAIL_RETRY_SECONDS = 60
    smtp_server.start()
    smtp_server.handler.replies = ["451 4.3.0 Try again later"]
    _notice(member, 1)
    mail_queue.run()
    email = OutgoingEmail.objects.get()
    assert (email.status, email.attempts, email.last_error) == (
        Status.RETRYING,
        1,
        "SMTPDataError 451",
    )
    assert not smtp_server.handler.messages
    clock.advance(seconds=59)
    mail_queue.run()
    assert not smtp_server.handler.messages  # not before its time
    clock.advance(seconds=2)
    mail_queue.run()
    email.refresh_from_db()
    assert (email.status, email.attempts) == (Status.SENT, 2)
    assert smtp_server.handler.received() == [(member.email, "Twofactor: authenticator app added")]


def test_backoff_doubles_and_gives_up_after_five_tries(member, mail_queue, clock, settings):
    from tests.hardening.conftest import free_port, use_smtp

    use_smtp(settings, free_port())  # nothing listens: connection refused every time
    settings.TWOFACTOR_EMAIL_RETRY_SECONDS = 60
    _notice(member, 1)
    waits = []
    for _ in range(5):
        mail_queue.run()
        email = OutgoingEmail.objects.get()
        if email.status == Status.FAILED:
            break
        waits.append(round((email.next_attempt_at - timezone.now()).total_seconds()))
        clock.advance(seconds=waits[-1])
    assert waits == [60, 120, 240, 480]
    assert (email.status, email.attempts, email.last_error) == (
        Status.FAILED,
        5,
        "ConnectionRefusedError",
    )
    assert SecurityEvent.objects.filter(kind="email_failed", user=member).count() == 1


def test_smtp_down_then_back_every_email_arrives_in_order_per_member(
    member, account_admin, mail_queue, smtp_server, clock, settings, caplog
):
    caplog.set_level(logging.INFO, logger="twofactor.email")
    settings.TWOFACTOR_EMAIL_RETRY_SECONDS = 60
    for n in (1, 2, 3):
        _notice(member, n)
    _notice(account_admin, 4)
    mail_queue.run()  # the server is down: each first try fails, the later ones wait
    assert not OutgoingEmail.objects.filter(status=Status.SENT).exists()
    smtp_server.start()
    for _ in range(4):
        clock.advance(seconds=61)
        mail_queue.run()
    assert OutgoingEmail.objects.filter(status=Status.SENT).count() == 4
    # The order they went out in, as the worker logged each send (under the frozen clock,
    # emails sent in one run share their sent_at).
    sent = [
        int(found.group(1))
        for record in caplog.records
        if (found := re.fullmatch(r"email factor-added #(\d+) sent", record.getMessage()))
    ]
    queued_to_member = list(
        OutgoingEmail.objects.filter(recipient=member.email)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    assert [pk for pk in sent if pk in queued_to_member] == queued_to_member
    assert sorted(to for to, _subject in smtp_server.handler.received()) == sorted(
        [member.email] * 3 + [account_admin.email]
    )


def test_a_5xx_fails_for_good_and_shows_everywhere(
    root_client, client, member, mail_queue, smtp_server
):
    smtp_server.start()
    smtp_server.handler.replies = ["550 5.1.1 No such mailbox"]
    password_step(client, member.email)
    mail_queue.run()
    email = OutgoingEmail.objects.get(recipient=member.email)
    assert (email.status, email.attempts, email.last_error) == (
        Status.FAILED,
        1,
        "SMTPDataError 550",
    )
    event = SecurityEvent.objects.get(kind="email_failed")
    assert (event.user, event.detail["name"]) == (member, "sign-in-link")
    assert "url" not in json.dumps(event.detail)
    page = client.get(reverse("accounts:login-email-sent")).content.decode()
    assert "We could not send the email" in page
    listing = root_client.get(
        reverse("admin:mail_outgoingemail_changelist") + "?status__exact=failed"
    )
    assert listing.status_code == HTTPStatus.OK
    assert member.email in listing.content.decode()
    assert "SMTPDataError 550" in listing.content.decode()
    detail = root_client.get(reverse("admin:mail_outgoingemail_change", args=[email.pk]))
    assert "gAAAA" not in detail.content.decode()  # the sealed context is not shown


def test_the_admin_refuses_lookups_on_the_sealed_context(root_client, member, mail_queue):
    _notice(member, 1)
    for url in (
        reverse("admin:mail_outgoingemail_changelist") + "?context_encrypted__startswith=g",
        reverse("admin:django_tasks_database_dbtaskresult_changelist") + "?args_kwargs__contains=1",
    ):
        assert root_client.get(url).status_code == HTTPStatus.BAD_REQUEST, url


def test_an_email_whose_member_is_gone_fails_without_a_crash(member, mail_queue):
    with transaction.atomic():
        sign_in_link_send(
            user=member,
            pending=type("P", (), {"nonce": "n" * 43})(),
            audit=AUDIT,
        )
    member.delete()
    mail_queue.run()
    email = OutgoingEmail.objects.get()
    assert (email.status, email.last_error) == (Status.FAILED, "EmailGone")
