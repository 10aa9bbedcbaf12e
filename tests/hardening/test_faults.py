"""Faults with real services: a private Redis that dies and comes back, a mail server that
is down or refuses, a PostgreSQL connection that is dropped under the app."""

from __future__ import annotations

import email
import logging
import os
import re
import signal
from http import HTTPStatus
from io import BytesIO

import pytest
from django.core import mail
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client
from django.urls import reverse

from accounts.login_flow import PENDING_LOGIN_SESSION_KEY
from accounts.models import SignInLink
from security.models import SecurityEvent
from tests.conftest import (
    link_from_outbox,
    password_step,
    path_of,
    postgres_backend_end,
    recovery_code_post,
    sign_in_with_link,
)
from tests.hardening.conftest import (
    PrivateSMTP,
    browser,
    free_port,
    use_smtp,
)
from twofactor_site.mail.models import OutgoingEmail
from twofactor_site.settings import redis_caches

# --- Redis ---------------------------------------------------------------------------------


@pytest.fixture
def on_private_redis(settings, private_redis):
    shared = settings.CACHES
    settings.CACHES = redis_caches(private_redis.url, key_prefix="hardening")
    yield private_redis
    settings.CACHES = shared  # before the shared fixtures clear "the" cache


def _assert_try_again_shortly(response) -> None:
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE, response.status_code
    assert b"Try again shortly" in response.content
    assert response["Retry-After"]
    assert b"Traceback" not in response.content


def test_redis_down_sign_in_answers_503_keeps_nothing_and_recovers(on_private_redis, member):
    on_private_redis.stop()
    client = browser(Client())
    client.handler.enforce_csrf_checks = False

    _assert_try_again_shortly(password_step(client, member.email))
    assert not SignInLink.objects.exists()
    assert not mail.outbox
    assert not SecurityEvent.objects.exists()
    assert "sessionid" not in client.cookies or not client.cookies["sessionid"].value

    on_private_redis.start()  # same port: the app finds it again by itself
    response = password_step(client, member.email)
    assert response.status_code == HTTPStatus.FOUND
    client.get(path_of(link_from_outbox()))
    signed_in = client.post(reverse("accounts:login-link"))
    assert signed_in.status_code == HTTPStatus.FOUND
    assert client.get(reverse("home")).status_code == HTTPStatus.OK


def test_redis_pause_answers_503_and_the_session_survives(on_private_redis, member):
    client = browser(Client())
    client.handler.enforce_csrf_checks = False
    sign_in_with_link(client, member.email)
    assert client.get(reverse("home")).status_code == HTTPStatus.OK

    os.kill(on_private_redis.process.pid, signal.SIGSTOP)
    try:
        # Django's own cache sessions would read this as "signed out" and delete the cookie.
        _assert_try_again_shortly(client.get(reverse("home")))
    finally:
        os.kill(on_private_redis.process.pid, signal.SIGCONT)
    assert client.cookies["sessionid"].value
    assert client.get(reverse("home")).status_code == HTTPStatus.OK


def test_redis_down_during_pending_login_answers_503(on_private_redis, member):
    client = browser(Client())
    client.handler.enforce_csrf_checks = False
    password_step(client, member.email)
    on_private_redis.stop()
    _assert_try_again_shortly(client.post(reverse("accounts:login-resend")))
    _assert_try_again_shortly(client.get(reverse("accounts:login-email-sent")))


# --- SMTP ----------------------------------------------------------------------------------


def _link_in(message: str) -> str:
    parsed = email.message_from_string(message)
    for part in parsed.walk():
        if part.get_content_type() == "text/plain":
            body = part.get_payload(decode=True).decode()
            match = re.search(r"https?://\S+/login/link/[^/\s]+/", body)
            if match:
                return match.group(0)
    raise AssertionError(message)


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        ("dead-port", "having trouble sending the email"),  # retried (4xx, connection)
        ("refusing-554", "We could not send the email"),  # a 5xx is final
    ],
)
def test_smtp_fault_says_so_keeps_pending_login_and_resend_works(settings, member, fault, says):
    refusing = PrivateSMTP(refuse=True) if fault == "refusing-554" else None
    use_smtp(settings, refusing.port if refusing else free_port())
    client = Client(raise_request_exception=False)
    try:
        response = password_step(client, member.email)
        assert response.status_code == HTTPStatus.FOUND
        page = client.get(response.url)
    finally:
        if refusing:
            refusing.close()
    assert page.status_code == HTTPStatus.OK
    assert says in page.content.decode()
    assert PENDING_LOGIN_SESSION_KEY in client.session

    working = PrivateSMTP()
    try:
        use_smtp(settings, working.port)
        resent = client.post(reverse("accounts:login-resend"), follow=True)
        assert resent.status_code == HTTPStatus.OK
        assert "We sent a new link" in resent.content.decode()
        assert len(working.messages) == 1
        link = _link_in(working.messages[0])
    finally:
        working.close()
    client.get(path_of(link))
    assert client.post(reverse("accounts:login-link")).status_code == HTTPStatus.FOUND
    assert client.get(reverse("home")).status_code == HTTPStatus.OK


def test_smtp_down_password_reset_answers_as_always(settings, member, caplog):
    use_smtp(settings, free_port())
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.WARNING, logger="twofactor.email"):
        known = client.post(reverse("accounts:password-reset"), {"email": member.email})
        unknown = client.post(reverse("accounts:password-reset"), {"email": "nobody@acme.test"})
    assert known.status_code == unknown.status_code == HTTPStatus.FOUND
    assert known.url == unknown.url
    # The failure is logged by the sender: which email, which try, which error, no more.
    (queued,) = OutgoingEmail.objects.all()
    assert [r.getMessage() for r in caplog.records if r.name == "twofactor.email"] == [
        f"email password-reset #{queued.pk} could not be sent (try 1): ConnectionRefusedError"
    ]
    assert queued.status == OutgoingEmail.Status.RETRYING

def test_smtp_down_sign_in_with_recovery_code_still_works(settings, member_with_totp):
    from security.recovery_codes import services as recovery_code_services

    use_smtp(settings, free_port())
    code = recovery_code_services.recovery_codes_list(user=member_with_totp)[0][0]
    client = Client(raise_request_exception=False)
    password_step(client, member_with_totp.email)
    response = recovery_code_post(client, code)
    assert response.status_code == HTTPStatus.FOUND


# --- PostgreSQL ----------------------------------------------------------------------------


def _wsgi_get(path: str, cookie: str) -> tuple[str, bytes]:
    """One request through the real WSGI handler, which (unlike the test client) runs
    close_old_connections at the start of the request, as gunicorn's workers do."""
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "HTTP_COOKIE": cookie,
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": BytesIO(b""),
        "wsgi.url_scheme": "http",
        "wsgi.errors": BytesIO(),
    }
    status: list[str] = []
    body = b"".join(WSGIHandler()(environ, lambda s, h, *a: status.append(s)))
    return status[0], body


@pytest.mark.postgres  # a PostgreSQL server whose connection can be dropped
@pytest.mark.django_db(transaction=True)
def test_dropped_database_connection_next_request_works(member):
    client = Client()
    sign_in_with_link(client, member.email)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    status, body = _wsgi_get("/", cookie)
    assert status.startswith("200"), body[:300]

    postgres_backend_end()

    # CONN_HEALTH_CHECKS: the dead connection is noticed before use and replaced.
    status, body = _wsgi_get("/", cookie)
    assert status.startswith("200"), body[:300]
