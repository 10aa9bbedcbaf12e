"""Requiring the app from a date: until a member's deadline (the team's date, or their join
plus the grace period when later) every page shows them a banner and they can go on working;
from it they are sent to set-up. The Security page schedules it (asking first, as turning it
on does) and shows the roll-out. Time moves by the clock fixture, never by sleeping."""

from datetime import UTC, datetime, time, timedelta
from http import HTTPStatus

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from accounts.services import member_add
from security.models import SecurityEvent
from security.policy import member_deadline, setup_deadline
from security.totp import codes as totp
from tests.conftest import AUDIT, PASSWORD, enroll_totp, password_step, sign_in_with_link

SECURITY = reverse("security:security")
CONFIRM = reverse("security:requirement-confirm")
ENROLL = reverse("security:enroll")
HOME = reverse("home")


def day_ahead(days: int):
    return timezone.now().date() + timedelta(days=days)


def start_of(day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def schedule(client: Client, day, **fields):
    data = {"require": "on", "accept": "app", "start": "date", "from_date": str(day), **fields}
    return client.post(SECURITY, data)


def signed_in_client(user) -> Client:
    client = Client()
    sign_in_with_link(client, user.email)
    return client


@pytest.fixture
def admin_with_app(clock, admin_client, account_admin):
    account_admin.totp_secret = enroll_totp(account_admin, client=admin_client)
    return admin_client


def test_rollout_schedule_asks_first_and_says_until_when(admin_with_app, member, account):
    day = day_ahead(10)
    response = admin_with_app.get(
        CONFIRM, {"require": "on", "accept": "app", "start": "date", "from_date": str(day)}
    )
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert f"Until {day:%-d %B %Y} they see a reminder on every page" in html
    assert f'name="from_date" value="{day}"' in html and 'name="start" value="date"' in html
    account.refresh_from_db()
    assert not account.require_totp


def test_rollout_schedule_sets_the_date_records_it_and_tells_the_team(
    admin_with_app, account_admin, member, account
):
    day = day_ahead(10)
    response = schedule(admin_with_app, day, grace_days="3")
    assert response.status_code == HTTPStatus.FOUND
    account.refresh_from_db()
    assert account.require_totp and account.require_from == start_of(day)
    assert account.grace_days == 3
    event = SecurityEvent.objects.get(kind="requirement_on")
    assert event.detail["from"] == start_of(day).isoformat()
    assert event.actor_email == account_admin.email
    [message] = mail.outbox
    assert message.to == [member.email]
    assert f"requires an authenticator app from {day:%-d %B %Y}" in message.subject
    assert "Until then you can set it up" in message.body
    page = admin_with_app.get(SECURITY).content.decode()
    assert f"From {day:%-d %B %Y} every team member needs an authenticator app." in page


def test_rollout_schedule_needs_the_admins_own_factor(clock, admin_client, member, account):
    mail.outbox.clear()
    response = schedule(admin_client, day_ahead(10))
    assert "Set up an authenticator app on your own account first" in response.content.decode()
    account.refresh_from_db()
    assert not account.require_totp
    assert not mail.outbox and not SecurityEvent.objects.filter(kind="requirement_on").exists()


def test_rollout_banner_until_the_date_then_sent_to_set_up(clock, admin_with_app, member):
    day = day_ahead(3)
    schedule(admin_with_app, day)
    client = signed_in_client(member)
    home = client.get(HOME)
    assert home.status_code == HTTPStatus.OK
    html = home.content.decode()
    assert f"Your team requires an authenticator app from {day:%-d %B %Y}:" in html
    assert f'<a href="{ENROLL}">set it up now</a>' in html
    assert client.get(reverse("accounts:team")).status_code == HTTPStatus.OK
    clock.advance(days=3)
    client = signed_in_client(member)
    response = client.get(HOME)
    assert response.status_code == HTTPStatus.FOUND and response.url == ENROLL


def test_rollout_banner_names_passkeys_when_they_count(clock, admin_with_app, member):
    schedule(admin_with_app, day_ahead(3), accept="app_or_passkey")
    html = signed_in_client(member).get(HOME).content.decode()
    assert "Your team requires an authenticator app or a passkey from" in html
    assert "set one up now" in html


def test_rollout_no_banner_for_a_member_already_set_up(clock, admin_with_app, member_with_totp):
    schedule(admin_with_app, day_ahead(3))
    html = admin_with_app.get(HOME).content.decode()
    assert "Your team requires" not in html


def test_rollout_sso_member_is_exempt(clock, account, sso_member):
    Account.objects.filter(pk=account.pk).update(
        require_totp=True, require_from=timezone.now() + timedelta(days=3)
    )
    assert member_deadline(sso_member) is None and setup_deadline(sso_member) is None


def test_rollout_grace_period_for_members_added_later(clock, admin_with_app, account):
    # In force now, with three days for newcomers.
    admin_with_app.post(SECURITY, {"require": "on", "accept": "app", "grace_days": "3"})
    account.refresh_from_db()
    assert account.grace_days == 3
    clock.advance(days=1)
    newcomer = member_add(account=account, email="new@acme.test", password=PASSWORD)
    assert member_deadline(newcomer) == newcomer.date_joined + timedelta(days=3)
    client = signed_in_client(newcomer)
    assert "Your team requires an authenticator app from" in client.get(HOME).content.decode()
    clock.advance(days=3)
    client = signed_in_client(newcomer)
    assert client.get(HOME).url == ENROLL


def test_rollout_deadline_is_the_later_of_team_date_and_join_plus_grace(clock, account):
    team_date = timezone.now() + timedelta(days=5)
    Account.objects.filter(pk=account.pk).update(
        require_totp=True, require_from=team_date, grace_days=7
    )
    early = member_add(account=account, email="early@acme.test", password=PASSWORD)
    # Joined now: now + 7 days is later than the team's date.
    assert member_deadline(early) == early.date_joined + timedelta(days=7)
    Account.objects.filter(pk=account.pk).update(grace_days=2)
    assert member_deadline(early) == team_date


def test_rollout_without_grace_a_newcomer_after_the_date_sets_up_at_once(clock, account):
    enroll_totp(account.members.get())
    Account.objects.filter(pk=account.pk).update(
        require_totp=True, require_from=timezone.now() - timedelta(days=1)
    )
    newcomer = member_add(account=account, email="new@acme.test", password=PASSWORD)
    assert signed_in_client(newcomer).get(HOME).url == ENROLL


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"from_date": "2001-01-01"}, "That date has passed"),
        ({"from_date": "{ahead91}"}, "Choose a date at most 90 days ahead"),
        ({"from_date": "2027-13-45"}, "Enter a date as YYYY-MM-DD."),
        ({"from_date": "14 January"}, "Enter a date as YYYY-MM-DD."),
        ({"from_date": "99999-01-01"}, "Enter a date as YYYY-MM-DD."),
        ({"from_date": ""}, "Choose the date the requirement starts."),
        ({"from_date": "{ahead10}", "grace_days": "15"}, "Enter a whole number of days, 0 to 14."),
        ({"from_date": "{ahead10}", "grace_days": "-1"}, "Enter a whole number of days, 0 to 14."),
        ({"from_date": "{ahead10}", "grace_days": "two"}, "Enter a whole number of days, 0 to 14."),
        # Other scripts' digits, which Python reads as numbers: "２０２６" is a year to strptime.
        ({"from_date": "{ahead10_fullwidth}"}, "Enter a date as YYYY-MM-DD."),
        ({"from_date": "{ahead10}", "grace_days": "\uff13"}, "Enter a whole number of days, 0 to 14."),
        ({"from_date": "{ahead10}", "grace_days": "\u0663"}, "Enter a whole number of days, 0 to 14."),
    ],
)
def test_rollout_bad_date_is_a_form_error(admin_with_app, account, member, fields, error):
    ahead10 = str(day_ahead(10))
    fullwidth = ahead10[:4].translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    values = {
        "{ahead91}": str(day_ahead(91)),
        "{ahead10}": ahead10,
        "{ahead10_fullwidth}": fullwidth + ahead10[4:],
    }
    fields = {name: values.get(value, value) for name, value in fields.items()}
    query = {"require": "on", "accept": "app", "start": "date", **fields}
    for response in (admin_with_app.get(CONFIRM, query), admin_with_app.post(SECURITY, query)):
        assert response.status_code == HTTPStatus.BAD_REQUEST
        html = response.content.decode()
        assert error in html and 'role="alert"' in html
    account.refresh_from_db()
    assert not account.require_totp and not mail.outbox


def test_rollout_date_90_days_ahead_is_accepted(admin_with_app, account):
    day = day_ahead(90)
    assert schedule(admin_with_app, day).status_code == HTTPStatus.FOUND
    account.refresh_from_db()
    assert account.require_from == start_of(day)


def test_rollout_date_that_passed_while_confirming_is_refused(
    clock, admin_with_app, account_admin, account
):
    day = day_ahead(1)
    query = {"require": "on", "accept": "app", "start": "date", "from_date": str(day)}
    assert admin_with_app.get(CONFIRM, query).status_code == HTTPStatus.OK
    clock.advance(days=2)
    admin = Client()
    password_step(admin, account_admin.email)
    code = totp.code_at(account_admin.totp_secret, clock.step())
    assert admin.post(reverse("accounts:login-code"), {"code": code}).status_code == 302
    response = admin.post(SECURITY, query)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "That date has passed" in response.content.decode()


def test_rollout_panel_counts_who_is_set_up(clock, admin_with_app, account, member, sso_member):
    other = member_add(account=account, email="omar@acme.test", password=PASSWORD, name="Omar")
    enroll_totp(other)
    day = day_ahead(10)
    schedule(admin_with_app, day)
    html = admin_with_app.get(SECURITY).content.decode()
    assert "Roll-out" in html
    assert f"Starts <strong>{day:%-d %B %Y}</strong>" in html
    assert "2 of 3 members set up" in html  # the admin and Omar; the SSO member is exempt
    start = html.index("Not set up yet")
    waiting = html[start : html.index("</section>", start)]
    assert "Mia Member" in waiting and member.email in waiting
    assert "Omar" not in waiting and "sso@acme.test" not in waiting


def test_rollout_panel_hidden_while_the_requirement_is_off(admin_with_app):
    assert "Roll-out" not in admin_with_app.get(SECURITY).content.decode()


def test_rollout_change_the_date_of_a_scheduled_requirement(admin_with_app, account, member):
    schedule(admin_with_app, day_ahead(10))
    later = day_ahead(20)
    query = {"require": "on", "accept": "app", "start": "date", "from_date": str(later)}
    assert admin_with_app.get(CONFIRM, query).status_code == HTTPStatus.OK
    assert admin_with_app.post(SECURITY, query).status_code == HTTPStatus.FOUND
    account.refresh_from_db()
    assert account.require_from == start_of(later)
    # A new date is its own event (tests/requirement/test_requirement_changed.py).
    assert SecurityEvent.objects.filter(kind="requirement_on").count() == 1
    assert SecurityEvent.objects.filter(kind="requirement_changed").count() == 1


def test_rollout_turning_off_forgets_the_date(admin_with_app, account, member):
    schedule(admin_with_app, day_ahead(10))
    admin_with_app.post(SECURITY, {"require": "off"})
    account.refresh_from_db()
    assert not account.require_totp and account.require_from is None
    assert "Your team requires" not in signed_in_client(member).get(HOME).content.decode()


def test_rollout_service_refuses_a_date_beyond_90_days(account, account_admin):
    from security.policy import requirement_set

    enroll_totp(account_admin)
    with pytest.raises(ValueError):
        requirement_set(
            audit=AUDIT,
            account=account,
            admin=account_admin,
            required=True,
            starts_at=timezone.now() + timedelta(days=91),
        )
