"""GET /login/link/ shows what the link will do; only its POST signs in, in the same browser."""

import re
from http import HTTPStatus

from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.login_flow import PENDING_LOGIN_SESSION_KEY, pending_login_get
from accounts.models import SignInLink
from accounts.sign_in_links import sign_in_link_consume
from accounts.tokens import digest
from security.models import SecurityEvent
from tests.conftest import PASSWORD, is_signed_in, link_from_outbox, password_step, path_of

LINK_URL = "/login/link/"
SAME_BROWSER = b"only works in the browser where you entered your password"


def _open(client: Client, link: str):
    """Open an emailed link as a browser does: the token page, then where it redirects."""
    return client.get(path_of(link), follow=True)


def _sign_in(client: Client, link: str):
    """Open the link, then press its Sign in button; the button's answer."""
    _open(client, link)
    return client.post(LINK_URL)


def _refused(browser: Client, link: str, status: HTTPStatus, says: bytes = b""):
    """In ``browser`` the link's page answers ``status`` (saying ``says``), so does its Sign in
    button, and nobody is signed in there; the page's answer."""
    response = _open(browser, link)
    assert response.status_code == status
    if says:
        assert says in response.content
    assert browser.post(LINK_URL).status_code == status
    assert not is_signed_in(browser)
    return response


def test_login_link_renders_sign_in_button(client, member):
    password_step(client, member.email)
    response = _open(client, link_from_outbox())
    assert response.status_code == HTTPStatus.OK
    assert response.redirect_chain == [(LINK_URL, HTTPStatus.FOUND)]
    assert b'action="/login/link/"' in response.content
    assert b"Sign in" in response.content
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response.headers["Cache-Control"]
    token = path_of(link_from_outbox()).rstrip("/").rsplit("/", 1)[-1]
    assert token.encode() not in response.content
    # Nothing on the page is fetched from, or links to, another site.
    assert not re.search(rb'(src|href|action)="(https?:)?//', response.content)


def test_login_link_get_signs_nobody_in_and_uses_nothing(client, member):
    password_step(client, member.email)
    _open(client, link_from_outbox())
    _open(client, link_from_outbox())  # twice, as a prefetching browser might
    assert "_auth_user_id" not in client.session
    assert SignInLink.objects.get().used_at is None
    response = client.post(LINK_URL)
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("home")


def test_login_link_post_signs_in_and_rotates_session_key(client, member):
    password_step(client, member.email)
    _open(client, link_from_outbox())
    pending_key = client.session.session_key
    response = client.post(LINK_URL)
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("home")
    assert client.session.session_key != pending_key
    assert client.session["_auth_user_id"] == str(member.pk)
    assert PENDING_LOGIN_SESSION_KEY not in client.session
    home = client.get(reverse("home"))
    assert member.email.encode() in home.content
    assert SecurityEvent.objects.filter(kind="sign_in", user=member).count() == 1
    # The pending session is gone from the store: its id opens nothing.
    stale = Client()
    stale.cookies[settings.SESSION_COOKIE_NAME] = pending_key
    assert stale.get(reverse("home")).status_code == HTTPStatus.FOUND


def test_login_link_refused_in_another_browser_and_not_used_up(client, member):
    password_step(client, member.email)
    link = link_from_outbox()
    # Another browser: the page, then pressing a button it never had.
    response = _refused(Client(), link, HTTPStatus.FORBIDDEN, SAME_BROWSER)
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert SignInLink.objects.get().used_at is None
    assert SecurityEvent.objects.filter(kind="link_other_browser", user=member).exists()
    # The owner's later click still works.
    _open(client, link)
    assert client.post(LINK_URL).url == reverse("home")
    assert is_signed_in(client)


def test_login_link_refused_in_browser_with_other_users_pending_login(
    client, member, account_admin
):
    password_step(client, member.email)
    link = link_from_outbox()
    other = Client()
    password_step(other, account_admin.email)
    _refused(other, link, HTTPStatus.FORBIDDEN)
    _sign_in(client, link)
    assert is_signed_in(client)


def test_login_link_mail_scanner_uses_nothing_up(client, member):
    password_step(client, member.email)
    link = link_from_outbox()
    for _ in range(3):  # scanners open links, sometimes more than once, without cookies
        scanner = Client()
        assert _open(scanner, link).status_code == HTTPStatus.FORBIDDEN
        assert scanner.head(path_of(link)).status_code in (
            HTTPStatus.FOUND,
            HTTPStatus.METHOD_NOT_ALLOWED,
        )
    assert SignInLink.objects.get().used_at is None
    _sign_in(client, link)
    assert is_signed_in(client)


def test_login_link_refused_after_use(client, member):
    password_step(client, member.email)
    link = link_from_outbox()
    _sign_in(client, link)
    client.post(reverse("accounts:logout"))
    # The same browser after signing out, and any other browser: nobody is signed in.
    for browser in (client, Client()):
        _refused(browser, link, HTTPStatus.FORBIDDEN)


def test_login_link_consumed_between_get_and_post_is_refused(client, member):
    """Two tabs of one browser press the button at once: the second finds it used."""
    password_step(client, member.email)
    link = link_from_outbox()
    _open(client, link)
    token = link.rstrip("/").rsplit("/", 1)[-1]
    assert sign_in_link_consume(token_digest=digest(token), pending=pending_login_get(_Req(client)))
    response = client.post(LINK_URL)
    assert response.status_code == HTTPStatus.GONE
    assert b"already used" in response.content
    assert not is_signed_in(client)


def test_login_link_older_link_retired_by_resend(client, member):
    password_step(client, member.email)
    old = link_from_outbox()
    client.post(reverse("accounts:login-resend"))
    new = link_from_outbox()
    assert new != old
    _refused(client, old, HTTPStatus.GONE, b"newer sign-in link")
    _sign_in(client, new)
    assert is_signed_in(client)


def test_login_link_older_link_retired_by_new_login(client, member):
    password_step(client, member.email)
    old = link_from_outbox()
    elsewhere = Client()
    password_step(elsewhere, member.email)
    _refused(client, old, HTTPStatus.GONE)
    _sign_in(elsewhere, link_from_outbox())
    assert is_signed_in(elsewhere)


def test_login_link_expired_link_refused(client, member, settings, clock):
    settings.TWOFACTOR_PENDING_LOGIN_MINUTES = 30
    password_step(client, member.email)
    link = link_from_outbox()
    clock.advance(minutes=settings.TWOFACTOR_EMAIL_LINK_MINUTES + 1)
    _refused(client, link, HTTPStatus.GONE, b"expired")


def test_login_link_still_works_just_before_expiry(client, member, clock):
    password_step(client, member.email)
    link = link_from_outbox()
    clock.advance(minutes=settings.TWOFACTOR_EMAIL_LINK_MINUTES - 1)
    _sign_in(client, link)
    assert is_signed_in(client)


def test_login_link_expired_pending_login_refused_and_says_so(client, member, clock, settings):
    settings.TWOFACTOR_EMAIL_LINK_MINUTES = 30  # the link itself is still good
    password_step(client, member.email)
    link = link_from_outbox()
    clock.advance(minutes=settings.TWOFACTOR_PENDING_LOGIN_MINUTES + 1)
    _refused(client, link, HTTPStatus.GONE, b"expired")
    assert SignInLink.objects.get().used_at is None


def test_login_link_unknown_token_is_404(client, member):
    password_step(client, member.email)
    _refused(client, "https://twofactor.example/login/link/not-a-real-token/", HTTPStatus.NOT_FOUND)


def test_login_link_without_token_is_404(client, member):
    password_step(client, member.email)
    assert client.get(LINK_URL).status_code == HTTPStatus.NOT_FOUND
    assert client.post(LINK_URL).status_code == HTTPStatus.NOT_FOUND


def test_login_link_needs_csrf(member):
    browser = Client(enforce_csrf_checks=True)
    password_step_csrf(browser, member.email)
    _open(browser, link_from_outbox())
    assert browser.post(LINK_URL).status_code == HTTPStatus.FORBIDDEN
    assert SignInLink.objects.get().used_at is None


def password_step_csrf(browser: Client, email: str) -> None:
    page = browser.get(reverse("accounts:login"))
    token = page.context["csrf_token"]
    browser.post(
        reverse("accounts:login"),
        {"email": email, "password": PASSWORD, "csrfmiddlewaretoken": str(token)},
    )
    assert mail.outbox


def test_login_link_signed_in_browser_goes_home(signed_in, member):
    response = signed_in.get(LINK_URL)
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("home")


def test_login_link_rejects_other_methods(client, member):
    assert client.put(LINK_URL).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_login_link_get_query_budget(client, member, django_assert_max_num_queries):
    password_step(client, member.email)
    client.get(path_of(link_from_outbox()))
    with django_assert_max_num_queries(1):  # the link by its hash
        assert client.get(LINK_URL).status_code == HTTPStatus.OK


def test_login_link_post_query_budget(client, member, django_assert_max_num_queries):
    password_step(client, member.email)
    client.get(path_of(link_from_outbox()))
    # link by hash, user, consume, last_login, sign-in event.
    with django_assert_max_num_queries(5):
        assert client.post(LINK_URL).status_code == HTTPStatus.FOUND


class _Req:
    """Just enough of a request to read a test client's pending login."""

    def __init__(self, client: Client):
        self.session = client.session
