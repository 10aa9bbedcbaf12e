"""POST /login/resend/: a new link, the older ones retired; rate-limited."""

from http import HTTPStatus

from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import SignInLink
from tests.conftest import link_from_outbox, password_step, path_of

URL = "/login/resend/"


def test_resend_sends_new_link_and_retires_older(client, member):
    password_step(client, member.email)
    first = link_from_outbox()
    response = client.post(URL, follow=True)
    assert response.redirect_chain == [(reverse("accounts:login-email-sent"), HTTPStatus.FOUND)]
    assert b"Links sent earlier no longer work." in response.content
    assert len(mail.outbox) == 2
    assert mail.outbox[-1].to == [member.email]
    second = link_from_outbox()
    assert second != first
    assert SignInLink.objects.filter(retired_at=None, used_at=None).count() == 1
    assert client.get(path_of(first), follow=True).status_code == HTTPStatus.GONE
    assert client.get(path_of(second), follow=True).status_code == HTTPStatus.OK


def test_resend_needs_pending_login(client, db):
    response = client.post(URL)
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("accounts:login")
    assert not mail.outbox


def test_resend_refuses_expired_pending_login(client, member, clock, settings):
    password_step(client, member.email)
    clock.advance(minutes=settings.TWOFACTOR_PENDING_LOGIN_MINUTES + 1)
    response = client.post(URL)
    assert response.url == reverse("accounts:login")
    assert len(mail.outbox) == 1


def test_resend_refused_for_code_stage(client, member_with_totp):
    password_step(client, member_with_totp.email)
    response = client.post(URL)
    assert response.url == reverse("accounts:login-code")
    assert not mail.outbox


def test_resend_is_post_only(client, member):
    password_step(client, member.email)
    assert client.get(URL).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert len(mail.outbox) == 1


def test_resend_needs_csrf(member):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(reverse("accounts:login"))
    browser.post(
        reverse("accounts:login"),
        {
            "email": member.email,
            "password": "correct horse battery staple",
            "csrfmiddlewaretoken": str(page.context["csrf_token"]),
        },
    )
    assert len(mail.outbox) == 1
    assert browser.post(URL).status_code == HTTPStatus.FORBIDDEN
    assert len(mail.outbox) == 1


def test_resend_rate_limited_per_pending_user(member, settings):
    settings.RATELIMIT_RESEND = "2/d"
    first = Client(REMOTE_ADDR="198.51.100.1")
    password_step(first, member.email)
    for _ in range(2):
        assert first.post(URL).status_code == HTTPStatus.FOUND
    # A fresh pending login of the same user from another address does not reset it.
    second = Client(REMOTE_ADDR="198.51.100.2")
    password_step(second, member.email)
    sent = len(mail.outbox)
    response = second.post(URL)
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert b"Too many attempts" in response.content
    assert len(mail.outbox) == sent


def test_resend_rate_limited_per_ip(member, account_admin, other_admin, settings):
    settings.RATELIMIT_RESEND_IP = "2/d"
    browsers = [Client(REMOTE_ADDR="203.0.113.5") for _ in range(3)]
    for browser, user in zip(browsers, (member, account_admin, other_admin)):
        password_step(browser, user.email)
    assert browsers[0].post(URL).status_code == HTTPStatus.FOUND
    assert browsers[1].post(URL).status_code == HTTPStatus.FOUND
    assert browsers[2].post(URL).status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_resend_mail_failure_says_so(client, member, monkeypatch):
    password_step(client, member.email)
    monkeypatch.setattr(
        "django.core.mail.backends.locmem.EmailBackend.send_messages",
        lambda self, messages: (_ for _ in ()).throw(OSError("down")),
    )
    response = client.post(URL, follow=True)
    assert response.status_code == HTTPStatus.OK
    assert b"We are having trouble sending the email" in response.content
    assert b"we keep trying" in response.content


def test_resend_link_built_from_site_url_not_host_header(client, member):
    password_step(client, member.email)
    client.post(URL, HTTP_HOST="localhost")
    assert link_from_outbox().startswith("https://twofactor.example/login/link/")
    assert "localhost" not in mail.outbox[-1].body


def test_resend_query_budget(client, member, mail_queue, django_assert_max_num_queries):
    password_step(client, member.email)
    # pending user, then in one transaction (a savepoint here): retire older links + insert,
    # the email and its task, the event. The worker renders and sends it.
    with django_assert_max_num_queries(8):
        assert client.post(URL).status_code == HTTPStatus.FOUND
