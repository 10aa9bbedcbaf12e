"""A sign-in from a browser that never signed in as this member emails them, with how to
react; not their very first sign-in, and not a browser they used before."""

from __future__ import annotations

from django.core import mail
from django.test import Client
from django.urls import reverse

from security.models import SecurityEvent
from tests.conftest import sign_in_with_link

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _notices(user) -> list:
    return [m for m in mail.outbox if m.to == [user.email] and "New sign-in to" in m.subject]


def test_a_new_browser_is_emailed_with_team_browser_and_ip(member):
    sign_in_with_link(Client(), member.email)
    mail.outbox.clear()
    sign_in_with_link(Client(HTTP_USER_AGENT=FIREFOX, REMOTE_ADDR="203.0.113.7"), member.email)
    (notice,) = _notices(member)
    assert notice.subject == "New sign-in to Acme: Firefox on Windows, from 203.0.113.7"
    assert "change your password" in notice.body and "Account Admin" in notice.body
    assert SecurityEvent.objects.filter(kind="sign_in_new_browser", user=member).count() == 1


def test_the_very_first_sign_in_is_not_emailed(member):
    sign_in_with_link(Client(), member.email)
    assert _notices(member) == []


def test_a_browser_that_signed_in_before_is_not_emailed(member):
    own = Client()
    sign_in_with_link(own, member.email)
    sign_in_with_link(Client(), member.email)
    own.post(reverse("accounts:logout"))
    mail.outbox.clear()
    sign_in_with_link(own, member.email)
    assert _notices(member) == []
