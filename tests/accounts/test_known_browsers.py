"""A password alone cannot lock someone else out: a browser that completed a sign-in as the
member before (OWASP's device cookie, accounts/known_browsers.py) has its own count of
password attempts, so failures from elsewhere never block it; guessing stays limited, and
every failure is in the security log."""

from http import HTTPStatus

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts.known_browsers import browser_is_known
from accounts.models import User
from accounts.services import member_readd
from security.models import SecurityEvent
from tests.conftest import AUDIT, password_step, sign_in_with_link

LOGIN = reverse("accounts:login")
COOKIE = "twofactor_known"


@pytest.fixture
def limit(settings):
    settings.RATELIMIT_LOGIN_EMAIL = "3/10m"
    return 3


def _known_browser(user: User) -> Client:
    client = Client()
    sign_in_with_link(client, user.email)
    client.post(reverse("accounts:logout"))
    cache.clear()  # its first password step was still "elsewhere": counted with everyone's
    return client


def _wrong(client: Client, email: str):
    return client.post(LOGIN, {"email": email, "password": "not the password"})


def test_failures_from_elsewhere_do_not_lock_out_the_members_own_browser(limit, member):
    own = _known_browser(member)
    attacker = Client()
    statuses = [_wrong(attacker, member.email).status_code for _ in range(limit + 2)]
    assert statuses[-1] == HTTPStatus.TOO_MANY_REQUESTS
    response = password_step(own, member.email)
    assert response.status_code == HTTPStatus.FOUND, response.status_code
    assert response.url == reverse("accounts:login-email-sent")


def test_anonymous_guessing_is_still_limited_per_address(limit, member):
    _known_browser(member)
    attacker = Client()
    for _ in range(limit):
        assert _wrong(attacker, member.email).status_code == HTTPStatus.BAD_REQUEST
    assert password_step(attacker, member.email).status_code == HTTPStatus.TOO_MANY_REQUESTS
    other = Client()  # a fresh browser is "elsewhere" too
    assert password_step(other, member.email).status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_a_known_browser_has_its_own_limit(limit, member):
    own = _known_browser(member)
    for _ in range(limit):
        assert _wrong(own, member.email).status_code == HTTPStatus.BAD_REQUEST
    assert _wrong(own, member.email).status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert password_step(Client(), member.email).status_code == HTTPStatus.FOUND


def test_every_failure_is_logged_and_says_where_from(limit, member):
    own = _known_browser(member)
    attacker = Client()
    for _ in range(limit + 2):
        _wrong(attacker, member.email)
    _wrong(own, member.email)
    failures = SecurityEvent.objects.filter(kind="password_failed", user=member)
    assert [e.detail["known_browser"] for e in failures.order_by("id")] == [False] * limit + [True]


def test_a_cookie_of_another_member_or_a_forged_one_counts_as_elsewhere(
    limit, member, account_admin
):
    admins_browser = _known_browser(account_admin)
    forged = Client()
    forged.cookies[COOKIE] = admins_browser.cookies[COOKIE].value[:-3] + "abc"
    for client in (admins_browser, forged, Client()):
        _wrong(client, member.email)
    assert password_step(Client(), member.email).status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert password_step(admins_browser, account_admin.email).status_code == HTTPStatus.FOUND


def test_browser_is_known_answers_for_that_member_only(member, account_admin):
    own = _known_browser(member)
    request = RequestFactory().get("/")
    request.COOKIES = {COOKIE: own.cookies[COOKIE].value}
    assert browser_is_known(request, member)
    assert not browser_is_known(request, account_admin)
    fresh, _sent = member_readd(audit=AUDIT, member=member, by=account_admin)
    assert not browser_is_known(request, fresh), "a re-added member starts with no browsers"


def test_one_browser_remembers_several_members(member, account_admin):
    shared = Client()
    for user in (member, account_admin):
        sign_in_with_link(shared, user.email)
        shared.post(reverse("accounts:logout"))
    request = RequestFactory().get("/")
    request.COOKIES = {COOKIE: shared.cookies[COOKIE].value}
    assert browser_is_known(request, member) and browser_is_known(request, account_admin)


def test_the_cookie_is_http_only_and_names_no_address(member):
    own = _known_browser(member)
    morsel = own.cookies[COOKIE]
    assert morsel["httponly"] and morsel["samesite"] == "Lax"
    assert int(morsel["max-age"]) == settings.TWOFACTOR_KNOWN_BROWSER_DAYS * 86400
    import base64
    import zlib

    payload = morsel.value.split(":")[0]
    data = payload.lstrip(".")
    decoded = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    if payload.startswith("."):
        decoded = zlib.decompress(decoded)
    assert member.email.encode() not in decoded and b"acme" not in decoded
