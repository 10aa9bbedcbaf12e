"""POST /logout/: ends the session on the server."""

from http import HTTPStatus

from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.login_flow import PENDING_LOGIN_SESSION_KEY
from security.models import SecurityEvent
from tests.conftest import PASSWORD, link_from_outbox, password_step, path_of

URL = "/logout/"


def test_logout_signs_out_and_kills_old_session_key(signed_in, member):
    old_key = signed_in.cookies[settings.SESSION_COOKIE_NAME].value
    response = signed_in.post(URL, follow=True)
    assert response.redirect_chain == [(reverse("accounts:login"), HTTPStatus.FOUND)]
    assert b"You&#x27;re signed out." in response.content
    assert signed_in.get(reverse("home")).status_code == HTTPStatus.FOUND
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = old_key
    response = replay.get(reverse("home"))
    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("accounts:login"))
    assert SecurityEvent.objects.filter(kind="sign_out", user=member).count() == 1


def test_logout_get_is_refused_and_signs_nobody_out(signed_in):
    assert signed_in.get(URL).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert signed_in.get(reverse("home")).status_code == HTTPStatus.OK


def test_logout_needs_csrf(member):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(reverse("accounts:login"))
    csrf = str(page.context["csrf_token"])
    browser.post(
        reverse("accounts:login"),
        {"email": member.email, "password": PASSWORD, "csrfmiddlewaretoken": csrf},
    )
    browser.get(path_of(link_from_outbox()))
    page = browser.get(reverse("accounts:login-link"))
    browser.post(
        reverse("accounts:login-link"), {"csrfmiddlewaretoken": str(page.context["csrf_token"])}
    )
    assert browser.get(reverse("home")).status_code == HTTPStatus.OK
    response = browser.post(URL)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert browser.get(reverse("home")).status_code == HTTPStatus.OK
    home = browser.get(reverse("home"))
    browser.post(URL, {"csrfmiddlewaretoken": str(home.context["csrf_token"])})
    assert browser.get(reverse("home")).status_code == HTTPStatus.FOUND


def test_logout_during_pending_login_drops_it(client, member):
    password_step(client, member.email)
    response = client.post(URL)
    assert response.url == reverse("accounts:login")
    assert PENDING_LOGIN_SESSION_KEY not in client.session
    assert client.get(reverse("accounts:login")).status_code == HTTPStatus.OK


def test_logout_without_session_is_harmless(client, db):
    response = client.post(URL)
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("accounts:login")
    assert not SecurityEvent.objects.exists()
