"""POST /login/cancel/: "use another account" drops the pending login."""

from http import HTTPStatus

from django.urls import reverse

from accounts.login_flow import PENDING_LOGIN_SESSION_KEY
from tests.conftest import link_from_outbox, password_step, path_of

URL = "/login/cancel/"


def test_cancel_drops_pending_login_and_opens_login_page(client, member):
    password_step(client, member.email)
    response = client.post(URL)
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("accounts:login")
    assert PENDING_LOGIN_SESSION_KEY not in client.session
    assert client.get(reverse("accounts:login")).status_code == HTTPStatus.OK


def test_cancel_kills_the_link_in_this_browser(client, member):
    password_step(client, member.email)
    link = link_from_outbox()
    client.post(URL)
    response = client.get(path_of(link), follow=True)
    assert response.status_code == HTTPStatus.FORBIDDEN
    client.post(reverse("accounts:login-link"))
    assert client.get(reverse("home")).status_code == HTTPStatus.FOUND


def test_cancel_then_another_account(client, member, account_admin):
    password_step(client, member.email)
    client.post(URL)
    response = password_step(client, account_admin.email)
    assert response.url == reverse("accounts:login-email-sent")
    assert client.get(response.url).content.count(account_admin.email.encode()) == 1


def test_cancel_from_code_step(client, member_with_totp):
    password_step(client, member_with_totp.email)
    client.post(URL)
    assert client.get(reverse("accounts:login-code")).url == reverse("accounts:login")


def test_cancel_without_pending_login_is_harmless(client, db):
    response = client.post(URL)
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("accounts:login")


def test_cancel_does_not_sign_out(signed_in):
    signed_in.post(URL)
    assert signed_in.get(reverse("home")).status_code == HTTPStatus.OK


def test_cancel_is_post_only(client, member):
    password_step(client, member.email)
    assert client.get(URL).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert PENDING_LOGIN_SESSION_KEY in client.session
