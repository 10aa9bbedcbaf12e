"""Changing only the date or the grace period of a requirement already on: its own event
(saying from what to what), no second announcement to members already told, and one email to
each member whose own deadline now comes sooner or later. Time moves by the clock fixture."""

from datetime import UTC, datetime, time, timedelta
from http import HTTPStatus

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from security.models import SecurityEvent
from security.reminders import reminders_send
from security.totp import codes as totp
from tests.conftest import enroll_totp, password_step

SECURITY = reverse("security:security")


def day_ahead(days: int):
    return timezone.now().date() + timedelta(days=days)


def start_of(day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def schedule(client, day, **fields):
    data = {"require": "on", "accept": "app", "start": "date", "from_date": str(day), **fields}
    return client.post(SECURITY, data)


@pytest.fixture
def admin_with_app(clock, admin_client, account_admin):
    account_admin.totp_secret = enroll_totp(account_admin, client=admin_client)
    return admin_client


@pytest.fixture
def scheduled(clock, admin_with_app, account_admin, member):
    """On from 10 days ahead; the member was told; two days pass (past the once-a-day limit)
    and the admin signs in again."""
    day = day_ahead(10)
    schedule(admin_with_app, day)
    [announcement] = mail.outbox
    assert announcement.to == [member.email]
    mail.outbox.clear()
    clock.advance(days=2)
    cache.delete(f"twofactor:requirement-on-mail:{member.pk}")  # Redis keeps the real clock
    signs_in_again(admin_with_app, account_admin, clock)
    return day


def signs_in_again(client, admin, clock) -> None:
    """After days have passed: the admin's session has ended, they sign in with their app."""
    client.logout()
    password_step(client, admin.email)
    code = totp.code_at(admin.totp_secret, clock.step())
    response = client.post(reverse("accounts:login-code"), {"code": code})
    assert response.status_code == HTTPStatus.FOUND
    mail.outbox.clear()  # the admin's new-browser notice


def kinds() -> list[str]:
    return list(SecurityEvent.objects.order_by("id").values_list("kind", flat=True))


def moved_date_email(member, *, new, was):
    """The one email sent: to ``member``, giving the new date and the old, and not the
    requirement-on email again."""
    [message] = mail.outbox
    assert message.to == [member.email]
    assert f"by {new:%-d %B %Y} (it was {was:%-d %B %Y})" in message.body
    assert "turned on a rule" not in message.body
    return message


def assert_one_reminder_before(day) -> None:
    assert reminders_send() == 1
    [reminder] = mail.outbox
    assert f"before {day:%-d %B %Y}" in reminder.subject


def test_changing_only_the_grace_period_is_its_own_event_and_emails_nobody(
    admin_with_app, scheduled, member
):
    response = schedule(admin_with_app, scheduled, grace_days="3")
    assert response.url == SECURITY
    assert not mail.outbox
    assert [k for k in kinds() if k.startswith("requirement")] == [
        "requirement_on",
        "requirement_changed",
    ]
    event = SecurityEvent.objects.get(kind="requirement_changed")
    assert event.detail == {"accepts": "app", "grace_days": 3, "grace_days_before": 0}
    page = admin_with_app.get(SECURITY).content.decode()
    assert "Requirement&#x27;s start date or grace period changed" in page


def test_a_later_date_is_recorded_and_tells_each_member_the_new_date_once(
    clock, admin_with_app, scheduled, member
):
    later = day_ahead(20)
    assert schedule(admin_with_app, later).url == SECURITY
    event = SecurityEvent.objects.get(kind="requirement_changed")
    assert event.detail["from"] == start_of(later).isoformat()
    assert event.detail["from_before"] == start_of(scheduled).isoformat()
    assert SecurityEvent.objects.filter(kind="requirement_on").count() == 1
    message = moved_date_email(member, new=later, was=scheduled)
    assert f"more time to set up your authenticator app: until {later:%-d %B %Y}" in (
        message.subject
    )
    html = message.alternatives[0][0]
    assert f"by {later:%-d %B %Y} (it was {scheduled:%-d %B %Y})" in html
    mail.outbox.clear()
    # The same date again tells nobody; the reminders count from the new date.
    schedule(admin_with_app, later, grace_days="0")
    assert not mail.outbox
    clock.advance(days=8)  # the old date: nothing is due any more
    assert reminders_send() == 0
    clock.advance(days=5)  # 7 days before the new one
    assert_one_reminder_before(later)


def test_a_later_date_tells_a_member_already_sent_to_set_up(
    clock, admin_with_app, account_admin, scheduled, member
):
    clock.advance(days=9)  # the team's date has come: the member is sent to set-up
    signs_in_again(admin_with_app, account_admin, clock)
    assert schedule(admin_with_app, day_ahead(1)).url == SECURITY
    [message] = mail.outbox
    assert message.to == [member.email]
    assert f"(it was {scheduled:%-d %B %Y})" in message.body


def test_a_sooner_date_tells_each_member_the_new_date_once(
    clock, admin_with_app, scheduled, member
):
    sooner = day_ahead(3)
    assert schedule(admin_with_app, sooner).url == SECURITY
    message = moved_date_email(member, new=sooner, was=scheduled)
    assert f"set up your authenticator app by {sooner:%-d %B %Y}, sooner than before" in (
        message.subject
    )
    mail.outbox.clear()
    # The same date again, and the reminder run: the 7-day reminder is what they were just told.
    schedule(admin_with_app, sooner, grace_days="0")
    assert reminders_send() == 0 and not mail.outbox
    clock.advance(days=2)
    assert_one_reminder_before(sooner)


@pytest.mark.parametrize("days", [20, 3], ids=["later", "sooner"])
def test_a_moved_date_does_not_email_a_member_already_set_up(
    admin_with_app, scheduled, member, days
):
    enroll_totp(member)
    mail.outbox.clear()
    schedule(admin_with_app, day_ahead(days))
    assert not mail.outbox
    assert SecurityEvent.objects.filter(kind="requirement_changed").count() == 1


def test_starting_now_instead_tells_them_it_applies_now(admin_with_app, scheduled, member):
    response = admin_with_app.post(SECURITY, {"require": "on", "accept": "app", "start": "now"})
    assert response.url == SECURITY
    [message] = mail.outbox
    assert message.subject.endswith("set up your authenticator app now")
    assert f"it applies to you now (it was {scheduled:%-d %B %Y})" in message.body
