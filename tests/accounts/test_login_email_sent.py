"""GET /login/email-sent/: "check your email", with resend and "use another account"."""

import re
import smtplib
from http import HTTPStatus

from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client
from django.urls import reverse

from accounts.login_flow import PENDING_LOGIN_SESSION_KEY
from tests.conftest import link_from_outbox, password_step, path_of

URL = "/login/email-sent/"


def test_email_sent_renders_address_resend_and_cancel(client, member):
    password_step(client, member.email)
    response = client.get(URL)
    assert response.status_code == HTTPStatus.OK
    assert member.email.encode() in response.content
    assert b'action="/login/resend/"' in response.content
    assert b'action="/login/cancel/"' in response.content
    assert b"Use another account" in response.content
    assert b"this browser" in response.content
    assert "no-store" in response.headers["Cache-Control"]


def test_email_sent_needs_pending_login(client, db):
    response = client.get(URL, follow=True)
    assert response.redirect_chain == [(reverse("accounts:login"), HTTPStatus.FOUND)]
    assert b"Sign in with your email and password first." in response.content


def test_email_sent_not_for_signed_in_browser(signed_in):
    response = signed_in.get(URL)
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("accounts:login")


def test_email_sent_refuses_expired_pending_login(client, member, clock, settings):
    password_step(client, member.email)
    clock.advance(minutes=settings.TWOFACTOR_PENDING_LOGIN_MINUTES + 1)
    response = client.get(URL, follow=True)
    assert response.redirect_chain == [(reverse("accounts:login"), HTTPStatus.FOUND)]
    assert b"Your sign-in took too long" in response.content
    assert PENDING_LOGIN_SESSION_KEY not in client.session


def test_email_sent_still_there_just_before_expiry(client, member, clock, settings):
    password_step(client, member.email)
    clock.advance(minutes=settings.TWOFACTOR_PENDING_LOGIN_MINUTES - 1)
    assert client.get(URL).status_code == HTTPStatus.OK


def test_email_sent_code_stage_goes_to_code_step(client, member_with_totp):
    password_step(client, member_with_totp.email)
    response = client.get(URL)
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("accounts:login-code")


def test_email_sent_refuses_removed_user(client, member):
    password_step(client, member.email)
    member.delete()
    response = client.get(URL)
    assert response.url == reverse("accounts:login")
    assert PENDING_LOGIN_SESSION_KEY not in client.session


def test_email_sent_get_only(client, member):
    password_step(client, member.email)
    assert client.post(URL).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_email_sent_is_per_browser(client, member):
    password_step(client, member.email)
    assert Client().get(URL).url == reverse("accounts:login")


def test_email_sent_query_budget(client, member, django_assert_max_num_queries):
    password_step(client, member.email)
    # The pending user with their account; where the newest link's email stands.
    with django_assert_max_num_queries(2):
        assert client.get(URL).status_code == HTTPStatus.OK


class RefusingBackend(BaseEmailBackend):
    """A mail server that answers every message with ``code``."""

    code = 550

    def send_messages(self, messages):
        raise smtplib.SMTPDataError(RefusingBackend.code, b"refused")


def _status_of_page(client) -> tuple[str, str | None]:
    page = client.get(URL).content.decode()
    status = re.search(r'class="email-status[^"]*" data-status="(\w+)"', page).group(1)
    refresh = re.search(r'<meta http-equiv="refresh" content="(\d+)">', page)
    return status, refresh.group(1) if refresh else None


def test_email_sent_says_on_its_way_and_refreshes_until_sent(client, member, mail_queue):
    password_step(client, member.email)
    assert _status_of_page(client) == ("queued", "2")
    assert b"sending a sign-in link" in client.get(URL).content
    mail_queue.run()
    assert _status_of_page(client) == ("sent", None)
    assert b"We sent a sign-in link" in client.get(URL).content


def test_email_sent_says_we_keep_trying_on_a_4xx(client, member, mail_queue, settings):
    settings.EMAIL_BACKEND = "tests.accounts.test_login_email_sent.RefusingBackend"
    settings.TWOFACTOR_EMAIL_RETRY_SECONDS = 60
    RefusingBackend.code = 451
    password_step(client, member.email)
    mail_queue.run()
    assert _status_of_page(client) == ("retrying", "15")
    assert b"we keep trying" in client.get(URL).content


def test_email_sent_says_it_failed_on_a_5xx_and_resend_works(client, member, mail_queue, settings):
    settings.EMAIL_BACKEND = "tests.accounts.test_login_email_sent.RefusingBackend"
    RefusingBackend.code = 550
    password_step(client, member.email)
    mail_queue.run()
    assert _status_of_page(client) == ("failed", None)
    assert b"We could not send the email" in client.get(URL).content
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client.post(reverse("accounts:login-resend"))
    mail_queue.run()
    assert _status_of_page(client) == ("sent", None)
    client.get(path_of(link_from_outbox()))
    assert client.post(reverse("accounts:login-link")).url == reverse("home")
