"""The 429 page says which limit refused, how long to wait, and what still works meanwhile."""

import re
from http import HTTPStatus

from django.test import Client
from django.urls import reverse

from accounts.models import SignInLink
from tests.conftest import page_text, password_step

RESEND = reverse("accounts:login-resend")


def _minutes(response) -> int:
    """The wait the page names, in whole minutes (0: "less than a minute"). django-ratelimit's
    windows start at a point of their own for each key, so any wait up to the window is right."""
    text = page_text(response)
    if "Try again in less than a minute." in text:
        return 0
    return int(re.search(r"Try again in (\d+) minutes?\.", text).group(1))


def test_login_limit_per_address_is_named_with_the_wait(client, member, settings):
    settings.RATELIMIT_LOGIN_IP = "2/10m"
    for _ in range(2):
        password_step(client, "nobody@acme.test", "wrong")
    response = password_step(client, member.email)
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "too many sign-in attempts from your network" in page_text(response)
    assert 0 <= _minutes(response) <= 10
    assert 0 < int(response.headers["Retry-After"]) <= 600


def test_login_limit_per_email_is_named(member, settings):
    settings.RATELIMIT_LOGIN_EMAIL = "2/h"
    for i in range(2):
        password_step(Client(REMOTE_ADDR=f"198.51.100.{i + 1}"), member.email, "wrong")
    response = password_step(Client(REMOTE_ADDR="198.51.100.9"), member.email)
    assert "too many sign-in attempts for this email address" in page_text(response)
    assert 0 <= _minutes(response) <= 60


def test_resend_limit_says_the_last_link_still_works(client, member, settings):
    settings.RATELIMIT_RESEND = "1/10m"
    password_step(client, member.email)
    assert client.post(RESEND).status_code == HTTPStatus.FOUND
    response = client.post(RESEND)
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    text = page_text(response)
    assert "You asked for a new sign-in link too many times." in text
    link = SignInLink.objects.filter(user=member, retired_at=None).get()
    until = link.expires_at.strftime("%H:%M")
    assert f"The last link we sent still works until {until} UTC: open it in this browser." in text


def test_resend_limit_does_not_promise_a_dead_link(client, member, settings):
    settings.RATELIMIT_RESEND = "1/10m"
    password_step(client, member.email)
    client.post(RESEND)
    SignInLink.objects.filter(user=member).update(used_at="2026-01-01T00:00Z")
    text = page_text(client.post(RESEND))
    assert "You asked for a new sign-in link too many times." in text
    assert "still works" not in text


def test_resend_limit_per_address_is_named(member, account_admin, settings):
    settings.RATELIMIT_RESEND_IP = "1/10m"
    first, second = Client(REMOTE_ADDR="203.0.113.5"), Client(REMOTE_ADDR="203.0.113.5")
    password_step(first, member.email)
    password_step(second, account_admin.email)
    first.post(RESEND)
    text = page_text(second.post(RESEND))
    assert "Too many new sign-in links were asked for from your network." in text
    assert "The last link we sent still works until" in text  # the password step sent one


def test_reset_limit_says_the_same_for_every_address(client, member, settings):
    settings.RATELIMIT_RESET_EMAIL = "1/h"
    url = reverse("accounts:password-reset")
    pages = []
    for email in (member.email, "nobody@acme.test"):
        client.post(url, {"email": email})
        response = client.post(url, {"email": email})
        assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
        assert 0 <= _minutes(response) <= 60
        # Each key's window starts at a point of its own: only the wait may differ.
        pages.append(re.sub(r"Try again in [^.]+\.", "", page_text(response)))
    assert "Too many password resets were asked for this email address." in pages[0]
    assert "If we emailed you a reset link in the last 24 hours, it still works." in pages[0]
    assert pages[0] == pages[1]


def test_signed_in_limit_keeps_the_signed_in_layout(signed_in, settings):
    settings.RATELIMIT_REAUTH_USER = "1/10m"
    url = reverse("security:reauth")
    signed_in.post(url, {"secret": "wrong"})
    response = signed_in.post(url, {"secret": "wrong"})
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "There were too many tries to confirm it's you." in page_text(response)
    assert 'class="topbar"' in response.content.decode()
