from http import HTTPStatus

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.login_flow import PENDING_LOGIN_SESSION_KEY
from accounts.models import User
from security.models import SecurityEvent
from tests.conftest import (
    PASSWORD,
    assert_emailed_link_from_site_url,
    link_from_outbox,
    password_step,
    sign_in_with_link,
)


@pytest.mark.django_db
def test_login_renders(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == HTTPStatus.OK
    assert b'autocomplete="username"' in response.content


def test_login_right_password_starts_pending_login_not_session(client, member):
    response = password_step(client, member.email)
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("accounts:login-email-sent")
    assert PENDING_LOGIN_SESSION_KEY in client.session
    assert "_auth_user_id" not in client.session
    assert len(mail.outbox) == 1


def test_login_wrong_password_and_unknown_email_answer_alike(client, member):
    wrong = password_step(client, member.email, "not the password")
    unknown = password_step(client, "nobody@acme.test", PASSWORD)
    assert wrong.status_code == unknown.status_code == HTTPStatus.BAD_REQUEST
    strip = lambda r: r.content.decode().replace("nobody@acme.test", "").replace(member.email, "")  # noqa: E731
    assert _form_error(strip(wrong)) == _form_error(strip(unknown))
    assert not mail.outbox
    assert SecurityEvent.objects.filter(kind="password_failed").count() == 2


def test_login_sso_member_answers_like_unknown(client, sso_member):
    response = password_step(client, sso_member.email, PASSWORD)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert PENDING_LOGIN_SESSION_KEY not in client.session


def _form_error(html: str) -> str:
    start = html.index('class="form-error"')
    return html[start : html.index("</div>", start)]


# --- Appended: the full checklist for the password step --------------------------------------

LOGIN_URL = "/login/"


def test_login_renders_next_only_when_on_site(client, db):
    inside = client.get(LOGIN_URL, {"next": "/settings/personal/"})
    assert b'name="next" value="/settings/personal/"' in inside.content
    for evil in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = client.get(LOGIN_URL, {"next": evil})
        assert response.status_code == HTTPStatus.OK
        assert b'name="next"' not in response.content
        assert b"evil.example" not in response.content
        assert b"javascript:" not in response.content


def test_login_rotates_session_key_at_password_step(client, member):
    client.get(reverse("accounts:login-link-token", args=["x" * 20]))  # gives it a session
    before = client.session.session_key
    assert before
    password_step(client, member.email)
    assert client.session.session_key != before
    assert "twofactor_link_token" not in client.session  # nothing carried over


def test_login_planted_session_id_is_never_authenticated(member):
    attacker = Client()
    attacker.get(reverse("accounts:login-link-token", args=["x" * 20]))
    planted = attacker.cookies[settings.SESSION_COOKIE_NAME].value
    victim = Client()
    victim.cookies[settings.SESSION_COOKIE_NAME] = planted
    sign_in_with_link(victim, member.email)
    assert victim.get(reverse("home")).status_code == HTTPStatus.OK
    assert victim.cookies[settings.SESSION_COOKIE_NAME].value != planted
    # The attacker's copy of the id opens nothing.
    response = attacker.get(reverse("home"))
    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("accounts:login"))


def test_login_link_built_from_site_url_not_host_header(client, member):
    client.post(LOGIN_URL, {"email": member.email, "password": PASSWORD}, HTTP_HOST="localhost")
    assert link_from_outbox().startswith("https://twofactor.example/login/link/")
    assert_emailed_link_from_site_url("https://twofactor.example/login/link/")


def test_login_email_says_when_browser_and_ip(client, member):
    client.post(
        LOGIN_URL,
        {"email": member.email, "password": PASSWORD},
        REMOTE_ADDR="203.0.113.7",
        HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
    )
    body = mail.outbox[-1].body
    assert mail.outbox[-1].to == [member.email]
    assert "203.0.113.7" in body
    assert "Firefox on Linux" in body
    assert "UTC" in body
    assert "10 minutes" in body


def test_login_is_case_insensitive_on_email(client, member):
    response = password_step(client, "  Member@ACME.test ")
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("accounts:login-email-sent")


def test_login_user_with_app_goes_to_code_step_without_email(client, member_with_totp):
    response = password_step(client, member_with_totp.email)
    assert response.url == reverse("accounts:login-code")
    assert not mail.outbox
    assert "_auth_user_id" not in client.session


def test_login_inactive_user_answers_like_wrong_password(client, member):
    User.objects.filter(pk=member.pk).update(is_active=False)
    response = password_step(client, member.email)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert PENDING_LOGIN_SESSION_KEY not in client.session
    assert not mail.outbox


def test_login_malformed_input_is_a_form_error(client, db):
    response = client.post(LOGIN_URL, {"email": "not-an-address", "password": ""})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert PENDING_LOGIN_SESSION_KEY not in client.session


def test_login_signed_in_user_is_sent_on(signed_in):
    response = signed_in.get(LOGIN_URL, {"next": "/settings/personal/"})
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == "/settings/personal/"
    response = signed_in.get(LOGIN_URL, {"next": "https://evil.example/"})
    assert response.url == reverse("home")


def test_login_rate_limited_per_ip(client, member, settings):
    settings.RATELIMIT_LOGIN_IP = "3/d"
    for i in range(3):
        assert password_step(client, f"nobody{i}@acme.test").status_code == HTTPStatus.BAD_REQUEST
    response = password_step(client, member.email)  # even the right password
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert b"Too many attempts" in response.content
    assert PENDING_LOGIN_SESSION_KEY not in client.session
    assert not mail.outbox
    # Another address is not affected.
    other = Client(REMOTE_ADDR="198.51.100.9")
    assert password_step(other, member.email).status_code == HTTPStatus.FOUND


def test_login_rate_limited_per_email_across_addresses(member, settings):
    settings.RATELIMIT_LOGIN_EMAIL = "3/d"
    for i in range(3):
        attacker = Client(REMOTE_ADDR=f"198.51.100.{i + 1}")
        response = password_step(attacker, member.email, "wrong password")
        assert response.status_code == HTTPStatus.BAD_REQUEST
    # Spelling the address differently does not get around it.
    response = password_step(Client(REMOTE_ADDR="198.51.100.50"), "MEMBER@acme.test ")
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert not mail.outbox
    # Another email from the same places still works.
    response = password_step(Client(REMOTE_ADDR="198.51.100.1"), "admin@acme.test")
    assert response.status_code == HTTPStatus.FOUND


def test_login_rate_limit_holds_across_fresh_sessions(member, settings):
    settings.RATELIMIT_LOGIN_EMAIL = "2/d"
    for _ in range(2):
        password_step(Client(), member.email, "wrong password")
    response = password_step(Client(), member.email)
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_login_next_kept_through_every_step(client, member):
    response = sign_in_with_link(client, member.email, next_url="/settings/personal/?tab=1")
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == "/settings/personal/?tab=1"


@pytest.mark.parametrize(
    "evil",
    [
        "https://evil.example/",
        "//evil.example/",
        "///evil.example/",
        "/\\evil.example/",
        "javascript:alert(1)",
        "http://testserver.evil.example/",
    ],
)
def test_login_next_off_site_dropped_through_every_step(client, member, evil):
    response = sign_in_with_link(client, member.email, next_url=evil)
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("home")


def test_login_query_budget(client, member, mail_queue, django_assert_max_num_queries):
    # user, authenticator lookup, then in one transaction (a savepoint and its release here,
    # inside the test's): retire older links + insert, the email and its task, the event.
    # The email is rendered and sent by the worker, not here.
    with django_assert_max_num_queries(9):
        response = password_step(client, member.email)
    assert response.status_code == HTTPStatus.FOUND


def test_login_wrong_password_query_budget(client, member, django_assert_max_num_queries):
    # user (with account), the user again for the event, event, whether the domain is SSO.
    with django_assert_max_num_queries(4):
        response = password_step(client, member.email, "wrong password")
    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_login_next_from_admin_survives_both_steps(client, member):
    User.objects.filter(pk=member.pk).update(is_staff=True, is_superuser=True)
    response = client.get("/admin/", follow=True)
    login_url, _status = response.redirect_chain[-1]
    assert login_url.startswith(reverse("accounts:login"))
    assert b'name="next" value="/admin/"' in response.content
    response = sign_in_with_link(client, member.email, next_url="/admin/")
    assert response.url == "/admin/"
    assert client.get("/admin/").status_code == HTTPStatus.OK


def test_login_member_moved_to_sso_cannot_use_old_password(client, member):
    """A member switched to single sign-on keeps a usable hash until cleaned up: still refused."""
    User.objects.filter(pk=member.pk).update(identity=User.Identity.SSO)
    response = password_step(client, member.email)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert PENDING_LOGIN_SESSION_KEY not in client.session
    assert not mail.outbox
