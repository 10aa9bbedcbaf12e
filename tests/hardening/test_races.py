"""One consumable, many parallel submissions, exactly one success: a recovery code, a TOTP
code, an emailed link. Each thread has its own client (and, for codes, its own pending
login), all released at once by a barrier, each transaction its own connection."""

from __future__ import annotations

import functools
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from security.models import RecoveryCode, SecurityEvent
from security.recovery_codes import services as recovery_code_services
from tests.conftest import PASSWORD, current_code, link_from_outbox, password_step, path_of, race

# PostgreSQL: SQLite serialises every write, so a race cannot happen there (tests/conftest.py).
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PARALLEL = 6


def _post_at_once(clients: list[Client], path: str, data: dict) -> list[int]:
    """The statuses of every client posting ``data`` to ``path`` at the same moment."""
    return race(*[functools.partial(lambda c: c.post(path, data).status_code, c) for c in clients])


def _pending_logins(settings, user) -> list[Client]:
    settings.RATELIMIT_LOGIN_EMAIL = "100/10m"
    clients = []
    for _ in range(PARALLEL):
        client = Client(raise_request_exception=False)
        assert client.post(
            reverse("accounts:login"), {"email": user.email, "password": PASSWORD}
        ).url == reverse("accounts:login-code")
        clients.append(client)
    return clients


def test_one_recovery_code_in_parallel_signs_in_once(settings, member_with_totp):
    clients = _pending_logins(settings, member_with_totp)
    code = recovery_code_services.recovery_codes_list(user=member_with_totp)[0][0]
    for client in clients:
        client.post(reverse("accounts:login-switch"), {"step": "recovery-code"})
    url = reverse("accounts:login-recovery-code")
    statuses = _post_at_once(clients, url, {"recovery_code": code})
    assert statuses.count(HTTPStatus.FOUND) == 1, statuses
    assert all(s in (HTTPStatus.FOUND, HTTPStatus.BAD_REQUEST) for s in statuses), statuses
    assert RecoveryCode.objects.filter(user=member_with_totp, used_at__isnull=False).count() == 1
    assert SecurityEvent.objects.filter(kind="sign_in").count() == 1


def test_one_totp_code_in_parallel_signs_in_once(settings, member_with_totp):
    clients = _pending_logins(settings, member_with_totp)
    code = current_code(member_with_totp.totp_secret)
    statuses = _post_at_once(clients, reverse("accounts:login-code"), {"code": code})
    assert statuses.count(HTTPStatus.FOUND) == 1, statuses
    assert all(s in (HTTPStatus.FOUND, HTTPStatus.BAD_REQUEST) for s in statuses), statuses
    assert SecurityEvent.objects.filter(kind="sign_in").count() == 1


def test_one_link_in_parallel_signs_in_once(member):
    """The same browser (the session the link is bound to) pressing Sign in many times."""
    owner = Client(raise_request_exception=False)
    password_step(owner, member.email)
    owner.get(path_of(link_from_outbox()))
    session = owner.cookies["sessionid"].value
    clients = []
    for _ in range(PARALLEL):
        client = Client(raise_request_exception=False)
        client.cookies["sessionid"] = session
        clients.append(client)
    statuses = _post_at_once(clients, reverse("accounts:login-link"), {})
    assert statuses.count(HTTPStatus.FOUND) == 1, statuses
    assert all(s < 500 for s in statuses), statuses
    assert SecurityEvent.objects.filter(kind="sign_in").count() == 1


def test_wrong_codes_in_parallel_never_exceed_the_limit(settings, member_with_totp):
    """Many wrong guesses sent at once: no more are tried than the per-lockout limit, the
    rest are refused as locked without being looked at."""
    settings.TWOFACTOR_MAX_FAILED_CODES = 2
    settings.RATELIMIT_CODE_IP = "1000/m"
    clients = _pending_logins(settings, member_with_totp)
    wrong = "000000" if current_code(member_with_totp.totp_secret) != "000000" else "111111"
    statuses = _post_at_once(clients, reverse("accounts:login-code"), {"code": wrong})
    tried = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.CODE_FAILED).count()
    assert tried == 2, statuses
    # The two tried say "wrong" or, once the second has locked, "locked"; the rest "locked".
    assert set(statuses) <= {HTTPStatus.BAD_REQUEST, HTTPStatus.TOO_MANY_REQUESTS}, statuses
    assert statuses.count(HTTPStatus.TOO_MANY_REQUESTS) >= PARALLEL - 2, statuses
    member_with_totp.refresh_from_db()
    assert member_with_totp.failed_code_count == 2


def test_starting_enrollment_twice_at_once_is_no_error(settings, member):
    """A double click on "Get started": both requests answer, neither with a 500, and the
    member ends up with one enrollment in progress."""
    from security.models import TOTPDevice
    from tests.conftest import sign_in_with_link

    first = Client(raise_request_exception=False)
    sign_in_with_link(first, member.email)
    clients = [first] + [_same_session(first) for _ in range(PARALLEL - 1)]
    statuses = _post_at_once(clients, reverse("security:enroll"), {})
    assert set(statuses) == {HTTPStatus.FOUND}, statuses
    assert TOTPDevice.objects.filter(user=member).count() == 1
    assert RecoveryCode.objects.filter(user=member, active=False).count() == 10


def _same_session(client: Client) -> Client:
    twin = Client(raise_request_exception=False)
    twin.cookies = client.cookies
    return twin
