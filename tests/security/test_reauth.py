"""Proving presence again before seeing or changing the second factor: security:reauth and
the recent_auth_required guard."""

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from security.models import TOTPDevice
from tests.conftest import PASSWORD
from tests.security.conftest import code_for, reauth_expired

URL = reverse("security:reauth")
CODES = reverse("security:recovery-codes")

GUARDED_GET = [
    "security:recovery-codes",
    "security:recovery-codes-download",
    "security:recovery-codes-print",
    "security:totp-remove",
]


@pytest.mark.django_db
def test_reauth_needs_sign_in(client):
    assert client.get(URL).url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize("name", GUARDED_GET)
def test_reauth_required_after_the_window(totp_client, name):
    reauth_expired(totp_client)
    response = totp_client.get(reverse(name))
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == f"{URL}?next={reverse(name).replace('/', '%2F')}"


@pytest.mark.parametrize("name", GUARDED_GET)
def test_reauth_fresh_sign_in_counts(totp_client, name):
    assert totp_client.get(reverse(name)).status_code == HTTPStatus.OK


def test_reauth_required_for_regenerate_and_remove_posts(totp_client, member_with_totp):
    codes_before = set(member_with_totp.recovery_codes.values_list("digest", flat=True))
    reauth_expired(totp_client)
    for name in ("security:recovery-codes-regenerate", "security:totp-remove"):
        response = totp_client.post(reverse(name))
        assert response.url.startswith(URL)
    assert set(member_with_totp.recovery_codes.values_list("digest", flat=True)) == codes_before
    assert TOTPDevice.objects.filter(user=member_with_totp).exists()


def test_reauth_renders(totp_client):
    response = totp_client.get(URL + "?next=/settings/personal/two-factor/codes/")
    assert response.status_code == HTTPStatus.OK
    assert 'name="next" value="/settings/personal/two-factor/codes/"' in response.content.decode()
    assert "no-store" in response.headers["Cache-Control"]


def test_reauth_password_lets_through_to_next(totp_client):
    reauth_expired(totp_client)
    response = totp_client.post(URL, {"secret": PASSWORD, "next": CODES})
    assert response.url == CODES
    assert totp_client.get(CODES).status_code == HTTPStatus.OK


def test_reauth_current_code_lets_through_and_is_used_up(totp_client, member_with_totp, clock):
    reauth_expired(totp_client)
    code = code_for(member_with_totp, offset=1, clock=clock)  # sign-in used the current step
    response = totp_client.post(URL, {"secret": code, "next": CODES})
    assert response.url == CODES
    assert TOTPDevice.objects.get(user=member_with_totp).last_used_step == clock.step() + 1
    # The same code cannot prove presence twice.
    other = totp_client.post(URL, {"secret": code, "next": CODES})
    assert other.status_code == HTTPStatus.BAD_REQUEST


def test_reauth_code_already_used_at_sign_in_refused(totp_client, member_with_totp, clock):
    reauth_expired(totp_client)
    response = totp_client.post(URL, {"secret": code_for(member_with_totp, clock=clock)})
    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_reauth_wrong_secret_error(totp_client):
    reauth_expired(totp_client)
    for secret in ("not my password", "000000", "abcde-fghjk"):
        response = totp_client.post(URL, {"secret": secret, "next": CODES})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "didn&#x27;t match your password or a current code" in response.content.decode()
    assert totp_client.get(CODES).url.startswith(URL)


def test_reauth_recovery_code_not_accepted(totp_client, member_with_totp):
    from security.recovery_codes import services as recovery_code_services

    reauth_expired(totp_client)
    code = recovery_code_services.recovery_codes_list(user=member_with_totp)[0][0]
    assert totp_client.post(URL, {"secret": code}).status_code == HTTPStatus.BAD_REQUEST
    assert recovery_code_services.recovery_codes_remaining(user=member_with_totp) == 10


def test_reauth_rate_limited(totp_client, settings):
    settings.RATELIMIT_REAUTH_USER = "3/m"
    reauth_expired(totp_client)
    statuses = [totp_client.post(URL, {"secret": "wrong"}).status_code for _ in range(4)]
    assert statuses[-1] == HTTPStatus.TOO_MANY_REQUESTS
    # Right password while limited: still refused.
    assert totp_client.post(URL, {"secret": PASSWORD}).status_code == HTTPStatus.TOO_MANY_REQUESTS


@pytest.mark.parametrize("evil", ["https://evil.example/", "//evil.example/x"])
def test_reauth_offsite_next_dropped(totp_client, evil):
    reauth_expired(totp_client)
    response = totp_client.post(URL, {"secret": PASSWORD, "next": evil})
    assert response.url == reverse("security:manage")


def test_reauth_is_per_session(totp_client, member_with_totp, clock):
    """Proof given in one browser does not open the codes in another."""
    from tests.conftest import password_step
    from tests.security.conftest import code_post

    other = Client()
    password_step(other, member_with_totp.email)
    code_post(other, code_for(member_with_totp, offset=1, clock=clock))
    reauth_expired(totp_client, other)
    totp_client.post(URL, {"secret": PASSWORD})
    assert totp_client.get(CODES).status_code == HTTPStatus.OK
    assert other.get(CODES).url.startswith(URL)
