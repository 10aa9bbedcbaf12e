"""Reminder emails before a member's set-up deadline: 7 days and 1 day before, once each,
through ``manage.py send_reminders`` (cron); time moved by the clock fixture."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.services import member_add
from security.policy import requirement_set
from security.reminders import reminders_send
from security.totp.services import has_active_app
from tests.conftest import AUDIT, PASSWORD, command_output, enroll_totp, race
from tests.requirement.test_rollout import day_ahead, start_of


def send_reminders() -> str:
    return command_output("send_reminders")


def require(account, admin, **fields) -> None:
    if not has_active_app(admin):
        enroll_totp(admin)
    assert requirement_set(audit=AUDIT, account=account, admin=admin, required=True, **fields)
    mail.outbox.clear()  # the requirement-on email


def reminded() -> list[tuple[str, str]]:
    return [(message.to[0], message.subject) for message in mail.outbox]


def test_reminders_7_days_and_1_day_before_each_once(
    clock, account, account_admin, member, sso_member
):
    day = day_ahead(10)
    with_app = member_add(account=account, email="omar@acme.test", password=PASSWORD)
    enroll_totp(with_app)
    require(account, account_admin, starts_at=start_of(day))
    assert send_reminders() == "0 reminder(s) sent.\n"
    clock.advance(days=3)  # 7 days (and some hours) to go: the first is due
    assert send_reminders() == "1 reminder(s) sent.\n"
    [message] = mail.outbox
    assert message.to == [member.email]  # not the members set up, not the SSO member
    assert f"set up your authenticator app before {day:%-d %B %Y}" in message.subject
    assert f"Acme requires an authenticator app from {day:%-d %B %Y}" in message.body
    assert "https://twofactor.example" + reverse("security:enroll") in message.body
    assert send_reminders() == "0 reminder(s) sent.\n"  # a second run sends nothing
    clock.advance(days=5)
    assert reminders_send() == 0 and len(mail.outbox) == 1
    clock.advance(days=1)  # under a day to go
    assert reminders_send() == 1
    assert reminders_send() == 0
    assert [to for to, _subject in reminded()] == [member.email, member.email]
    clock.advance(days=2)  # the date came: set-up is forced, no more reminders
    assert reminders_send() == 0 and len(mail.outbox) == 2


def test_reminders_stop_once_the_member_sets_up(clock, account, account_admin, member):
    require(account, account_admin, starts_at=start_of(day_ahead(7)))
    assert reminders_send() == 1
    enroll_totp(member)
    clock.advance(days=6)
    assert reminders_send() == 0 and mail.outbox == []


def test_reminders_a_deadline_near_gets_only_the_last_one(clock, account, account_admin, member):
    require(account, account_admin, starts_at=start_of(day_ahead(1)))
    assert reminders_send() == 1
    clock.advance(days=1)
    assert reminders_send() == 0 and len(mail.outbox) == 1


def test_reminders_for_a_newcomer_count_from_their_grace_period(clock, account, account_admin):
    require(account, account_admin, grace_days=10)  # in force now; newcomers get 10 days
    newcomer = member_add(account=account, email="new@acme.test", password=PASSWORD)
    assert reminders_send() == 0
    clock.advance(days=3, minutes=1)
    assert reminders_send() == 1 and mail.outbox[0].to == [newcomer.email]
    clock.advance(days=6)
    assert reminders_send() == 1 and reminders_send() == 0
    assert [to for to, _subject in reminded()] == [newcomer.email] * 2


def test_reminders_name_passkeys_when_they_count(clock, account, account_admin, member):
    require(account, account_admin, starts_at=start_of(day_ahead(5)), accept_passkeys=True)
    reminders_send()
    assert "requires an authenticator app or a passkey from" in mail.outbox[0].body


def test_reminders_a_new_date_reminds_again(clock, account, account_admin, member):
    require(account, account_admin, starts_at=start_of(day_ahead(5)))
    assert reminders_send() == 1
    mail.outbox.clear()
    later = start_of(day_ahead(6))
    assert requirement_set(
        audit=AUDIT, account=account, admin=account_admin, required=True, starts_at=later
    )
    # The email with the new date says what its 7-day reminder would; its 1-day one follows.
    [moved] = mail.outbox
    assert "more time" in moved.subject
    assert reminders_send() == 0
    clock.advance(days=5)
    assert reminders_send() == 1


def test_reminders_are_queued_with_their_record_and_sent_by_the_worker(
    clock, account, account_admin, member, mail_queue
):
    """The mail worker retries what a mail server refuses (tests/mail); a reminder is queued
    in the transaction that records it, so a second run queues nothing more."""
    require(account, account_admin, starts_at=start_of(day_ahead(5)))
    mail_queue.run()  # the requirement-on email
    mail.outbox.clear()
    assert reminders_send() == 1
    assert mail.outbox == []  # queued, not sent in the run
    assert reminders_send() == 0
    mail_queue.run()
    assert [m.to for m in mail.outbox] == [[member.email]]
    assert "before" in mail.outbox[0].subject


def test_reminders_none_while_the_requirement_is_off(clock, account, account_admin, member):
    require(account, account_admin, starts_at=start_of(day_ahead(5)))
    requirement_set(audit=AUDIT, account=account, admin=account_admin, required=False)
    assert reminders_send() == 0 and mail.outbox == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_reminders_two_runs_at_once_send_each_once(account, account_admin, member):
    require(account, account_admin, starts_at=timezone.now() + timedelta(days=3))
    results = race(reminders_send, reminders_send)
    assert sorted(results) == [0, 1]
    assert [message.to for message in mail.outbox] == [[member.email]]
