"""Turning the team requirement on and off is rate limited, and the "requirement on" email
goes only to the members it affects (not SSO members, not members who already have an app,
not the admin who did it), once per member per day at most, says who turned it on and what
the member will see at their next sign-in, and warns of nothing: they did nothing."""

from http import HTTPStatus

import pytest
from django.core import mail
from django.urls import reverse

from accounts.services import member_add
from tests.conftest import PASSWORD, enroll_totp

SECURITY = reverse("security:security")


@pytest.fixture
def ready(admin_client, account_admin):
    enroll_totp(account_admin, client=admin_client)
    mail.outbox.clear()
    return admin_client


def _told() -> list[str]:
    return sorted(
        address
        for message in mail.outbox
        if "requires an authenticator app" in message.subject
        for address in message.to
    )


def test_requirement_on_mail_goes_only_to_members_it_affects(
    ready, account, account_admin, member, sso_member
):
    with_app = member_add(account=account, email="app@acme.test", password=PASSWORD)
    enroll_totp(with_app)
    mail.outbox.clear()
    assert ready.post(SECURITY, {"require": "on"}).status_code == HTTPStatus.FOUND
    assert _told() == [member.email]


def test_requirement_on_mail_says_who_turned_it_on(ready, account_admin, member):
    ready.post(SECURITY, {"require": "on"})
    (message,) = [m for m in mail.outbox if m.to == [member.email]]
    assert account_admin.email in message.body
    assert account_admin.email in message.alternatives[0][0]


def _mail_to(member) -> tuple[str, str, str]:
    (message,) = [m for m in mail.outbox if m.to == [member.email]]
    return message.subject, message.body, message.alternatives[0][0]


def test_requirement_on_mail_says_what_the_member_sees_next(ready, account_admin, member):
    account_admin.name = "Ada Admin"
    account_admin.save(update_fields=["name"])
    ready.post(SECURITY, {"require": "on"})
    subject, text, html = _mail_to(member)
    assert subject.endswith("your team now requires an authenticator app")
    for body in (text, html):
        assert "Ada Admin (admin@acme.test), an Account Admin of Acme, turned on" in body
        assert "The next time you sign in" in body
        assert "save ten recovery codes, then to set up an authenticator app" in body
        # The member did nothing: nothing to suspect, no password to change.
        assert "wasn't you" not in body and "change your password" not in body.lower()


def test_requirement_on_mail_offers_a_passkey_when_the_team_accepts_one(ready, member):
    ready.post(SECURITY, {"require": "on", "accept": "app_or_passkey"})
    subject, text, html = _mail_to(member)
    assert subject.endswith("requires an authenticator app or a passkey")
    assert "set up an authenticator app or add a passkey" in text
    assert "set up an authenticator app or add a passkey" in html


def test_requirement_on_mail_names_an_admin_without_a_name_once(ready, member):
    ready.post(SECURITY, {"require": "on"})
    _subject, text, _html = _mail_to(member)
    assert text.startswith("admin@acme.test, an Account Admin of Acme, turned on")


def test_requirement_on_mail_at_most_once_a_day(ready, member):
    for choice in ("on", "off", "on", "off", "on"):
        assert ready.post(SECURITY, {"require": choice}).status_code == HTTPStatus.FOUND
    assert _told() == [member.email]


def test_turning_the_requirement_on_and_off_is_rate_limited(ready, settings, account):
    settings.RATELIMIT_REQUIREMENT = "3/h"
    statuses = [
        ready.post(SECURITY, {"require": choice}).status_code
        for choice in ("on", "off", "on", "off")
    ]
    assert statuses == [HTTPStatus.FOUND] * 3 + [HTTPStatus.TOO_MANY_REQUESTS]
    account.refresh_from_db()
    assert account.require_totp is True  # the refused "off" changed nothing
