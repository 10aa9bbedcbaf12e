"""GET /login/email-sent/: "check your email", with resend and "use another account"."""

from http import HTTPStatus

from django.test import Client
from django.urls import reverse

from accounts.login_flow import PENDING_LOGIN_SESSION_KEY
from tests.conftest import password_step

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
    with django_assert_max_num_queries(1):  # the pending user with their account
        assert client.get(URL).status_code == HTTPStatus.OK
