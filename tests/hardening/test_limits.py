"""Limits that hold across fresh sessions, and X-Forwarded-For believed only from proxies."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from security.models import SecurityEvent
from tests.conftest import PASSWORD, current_code
from twofactor_site.net import client_ip

LOGIN = reverse("accounts:login")
CODE = reverse("accounts:login-code")


def _fresh_pending_login(user, **extra) -> Client:
    client = Client(**extra)
    response = client.post(LOGIN, {"email": user.email, "password": PASSWORD})
    assert response.url == CODE
    return client


def test_lockout_holds_across_fresh_sessions_and_refuses_a_right_code(settings, member_with_totp):
    settings.TWOFACTOR_MAX_FAILED_CODES = 4
    for _ in range(2):  # two failures in each of two sessions: no session count helps
        client = _fresh_pending_login(member_with_totp)
        for wrong in ("000001", "000002"):
            client.post(CODE, {"code": wrong})
    fresh = _fresh_pending_login(member_with_totp, REMOTE_ADDR="192.0.2.200")
    response = fresh.post(CODE, {"code": current_code(member_with_totp.totp_secret)})
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "_auth_user_id" not in fresh.session
    member_with_totp.refresh_from_db()
    assert member_with_totp.code_locked_until is not None
    assert SecurityEvent.objects.filter(kind="locked_out").count() == 1


def test_failures_below_the_limit_do_not_lock(settings, member_with_totp):
    settings.TWOFACTOR_MAX_FAILED_CODES = 4
    client = _fresh_pending_login(member_with_totp)
    for wrong in ("000001", "000002", "000003"):
        client.post(CODE, {"code": wrong})
    response = client.post(CODE, {"code": current_code(member_with_totp.totp_secret)})
    assert response.status_code == HTTPStatus.FOUND


# --- X-Forwarded-For -----------------------------------------------------------------------


def _ip(remote: str, forwarded: str | None = None) -> str:
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **extra))


def test_forwarded_for_is_ignored_without_trusted_proxies(settings):
    settings.TRUSTED_PROXIES = []
    assert _ip("203.0.113.5", "1.2.3.4") == "203.0.113.5"


def test_forwarded_for_from_a_non_proxy_is_ignored(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert _ip("203.0.113.5", "1.2.3.4") == "203.0.113.5"


def test_forwarded_for_from_a_proxy_names_the_client(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert _ip("10.0.0.2", "198.51.100.1") == "198.51.100.1"
    # A client's own spoofed entry stands left of what our proxy appended.
    assert _ip("10.0.0.2", "1.2.3.4, 198.51.100.1") == "198.51.100.1"
    # Chained proxies: skip every trusted hop from the right.
    assert _ip("10.0.0.2", "1.2.3.4, 198.51.100.1, 10.0.0.9") == "198.51.100.1"
    # Garbage in the header: stop at the last address we can vouch for.
    assert _ip("10.0.0.2", "not-an-ip") == "10.0.0.2"


def _wrong_password(client: Client, n: int, **extra):
    return client.post(
        LOGIN, {"email": f"nobody{n}@acme.test", "password": "wrong password"}, **extra
    )


@pytest.mark.django_db
def test_spoofed_forwarded_for_does_not_escape_the_rate_limit(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.RATELIMIT_LOGIN_IP = "3/10m"
    client = Client(REMOTE_ADDR="203.0.113.5")
    for n in range(3):
        spoof = {"HTTP_X_FORWARDED_FOR": f"198.51.100.{n}"}
        assert _wrong_password(client, n, **spoof).status_code == HTTPStatus.BAD_REQUEST
    spoof = {"HTTP_X_FORWARDED_FOR": "198.51.100.99"}
    assert _wrong_password(client, 9, **spoof).status_code == HTTPStatus.TOO_MANY_REQUESTS
    # The events name the real client, not the spoofed one.
    assert set(SecurityEvent.objects.values_list("ip", flat=True)) == {"203.0.113.5"}


@pytest.mark.django_db
def test_rate_limit_behind_a_proxy_is_per_real_client(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.RATELIMIT_LOGIN_IP = "3/10m"
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    first = {"HTTP_X_FORWARDED_FOR": "198.51.100.1"}
    second = {"HTTP_X_FORWARDED_FOR": "198.51.100.2"}
    for n in range(3):
        assert _wrong_password(proxy, n, **first).status_code == HTTPStatus.BAD_REQUEST
    assert _wrong_password(proxy, 3, **first).status_code == HTTPStatus.TOO_MANY_REQUESTS
    # Another client behind the same proxy is not punished for the first one.
    assert _wrong_password(proxy, 4, **second).status_code == HTTPStatus.BAD_REQUEST
    # Nor can the first one get round it by prepending an address of its own.
    spoof = {"HTTP_X_FORWARDED_FOR": "198.51.100.77, 198.51.100.1"}
    assert _wrong_password(proxy, 5, **spoof).status_code == HTTPStatus.TOO_MANY_REQUESTS


@pytest.mark.django_db
def test_code_rate_limit_is_keyed_on_the_real_client(settings, member_with_totp):
    settings.RATELIMIT_CODE_IP = "2/10m"
    settings.TWOFACTOR_MAX_FAILED_CODES = 50
    client = _fresh_pending_login(member_with_totp, REMOTE_ADDR="203.0.113.8")
    for n in range(2):
        spoof = {"HTTP_X_FORWARDED_FOR": f"198.51.100.{n}"}
        assert client.post(CODE, {"code": "000000"}, **spoof).status_code == 400
    spoof = {"HTTP_X_FORWARDED_FOR": "198.51.100.50"}
    response = client.post(CODE, {"code": current_code(member_with_totp.totp_secret)}, **spoof)
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS


@pytest.mark.postgres
def test_each_attempt_counts_once_in_redis_and_every_counter_expires(settings, member):
    """The limits' counters live in the shared Redis, each request adds one to each of its
    limits (the fourth of a 3-per-window limit is refused, not the third or the fifth), and
    no counter outlives its window."""
    from django_ratelimit.core import EXPIRATION_FUDGE
    from django_redis import get_redis_connection

    settings.RATELIMIT_LOGIN_EMAIL = "3/10m"
    client = Client()
    statuses = [
        client.post(LOGIN, {"email": member.email, "password": "wrong password"}).status_code
        for _ in range(4)
    ]
    assert statuses == [HTTPStatus.BAD_REQUEST] * 3 + [HTTPStatus.TOO_MANY_REQUESTS]
    raw = get_redis_connection(settings.RATELIMIT_USE_CACHE)
    counters = raw.keys("*rl:*")
    assert len(counters) == 2  # the address's and the email address's
    assert sorted(int(raw.get(key)) for key in counters) == [4, 4]
    for key in counters:
        lifetime = raw.pttl(key)
        assert 0 < lifetime <= (10 * 60 + EXPIRATION_FUDGE) * 1000, (key, lifetime)
