"""Enrollment's start: security:enroll."""

import time
from http import HTTPStatus

import pytest
from django.urls import reverse

from accounts.presence import SIGNED_IN_AT_SESSION_KEY
from security.models import RecoveryCode, TOTPDevice
from security.recovery_codes import services as recovery_code_services
from security.totp import services as totp_services

URL = reverse("security:enroll")


@pytest.mark.django_db
def test_enroll_needs_sign_in(client):
    for response in (client.get(URL), client.post(URL)):
        assert response.status_code == HTTPStatus.FOUND
        assert response.url.startswith(reverse("accounts:login"))
    assert not TOTPDevice.objects.exists()


def test_enroll_renders_codes_first(signed_in):
    response = signed_in.get(URL)
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert page.index("recovery codes") < page.index("QR code")
    assert not TOTPDevice.objects.exists()  # a GET starts nothing


def test_enroll_post_starts_with_server_side_secret_and_inactive_codes(signed_in, member):
    response = signed_in.post(URL, {"secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"})
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("security:enroll-codes")
    device = TOTPDevice.objects.get(user=member)
    assert device.confirmed_at is None
    assert totp_services.device_secret(device) != "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    assert RecoveryCode.objects.filter(user=member, active=False).count() == 10
    assert totp_services.active_device(member) is None


def test_enroll_restart_makes_a_new_secret_and_new_codes(signed_in, member):
    signed_in.post(URL)
    first_secret = totp_services.device_secret(totp_services.enrollment_device(user=member))
    first_codes = recovery_code_services.recovery_codes_list(user=member, active=False)
    signed_in.post(URL)
    assert TOTPDevice.objects.filter(user=member).count() == 1
    assert totp_services.device_secret(totp_services.enrollment_device(user=member)) != first_secret
    second_codes = recovery_code_services.recovery_codes_list(user=member, active=False)
    assert len(second_codes) == 10 and set(second_codes).isdisjoint(first_codes)


def test_enroll_with_active_app_goes_to_personal(client, member_with_totp):
    from tests.conftest import current_code, password_step
    from tests.security.conftest import code_post

    password_step(client, member_with_totp.email)
    TOTPDevice.objects.filter(user=member_with_totp).update(last_used_step=None)
    code_post(client, current_code(member_with_totp.totp_secret))
    secret_before = TOTPDevice.objects.get(user=member_with_totp).secret_encrypted
    for response in (client.get(URL), client.post(URL)):
        assert response.url == reverse("security:personal")
    assert TOTPDevice.objects.get(user=member_with_totp).secret_encrypted == secret_before


def test_enroll_sso_member_goes_to_personal(sso_member, client):
    client.force_login(sso_member)
    session = client.session
    session[SIGNED_IN_AT_SESSION_KEY] = time.time()
    session.save()
    response = client.post(URL)
    assert response.url == reverse("security:personal")
    assert not TOTPDevice.objects.exists()


def test_enroll_needs_csrf(signed_in):
    signed_in.handler.enforce_csrf_checks = True
    assert signed_in.post(URL).status_code == HTTPStatus.FORBIDDEN
    assert not TOTPDevice.objects.exists()


def test_enroll_pending_login_cannot_enroll(client, member):
    from tests.conftest import password_step

    password_step(client, member.email)
    response = client.post(URL)
    assert response.status_code == HTTPStatus.FOUND
    assert not TOTPDevice.objects.exists()


def test_enroll_start_page_no_store(signed_in):
    assert "no-store" in signed_in.get(URL).headers["Cache-Control"]
