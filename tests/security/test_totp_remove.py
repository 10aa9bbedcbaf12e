"""Removing the authenticator app: security:totp-remove."""

from http import HTTPStatus

from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import Account
from security.models import RecoveryCode, SecurityEvent, TOTPDevice
from tests.conftest import password_step
from tests.security.conftest import code_for, code_post

URL = reverse("security:totp-remove")


def test_totp_remove_needs_sign_in(client, db):
    assert client.post(URL).url.startswith(reverse("accounts:login"))


def test_totp_remove_without_app_goes_to_personal(signed_in):
    assert signed_in.get(URL).url == reverse("security:personal")


def test_totp_remove_renders_confirmation(totp_client):
    response = totp_client.get(URL)
    assert response.status_code == HTTPStatus.OK
    assert 'class="button button-danger"' in response.content.decode()


def test_totp_remove_back_to_email_link(totp_client, member_with_totp, clock):
    response = totp_client.post(URL)
    assert response.url == reverse("security:personal")
    assert not TOTPDevice.objects.filter(user=member_with_totp).exists()
    assert not RecoveryCode.objects.filter(user=member_with_totp).exists()
    assert mail.outbox[-1].to == [member_with_totp.email]
    assert "authenticator app removed" in mail.outbox[-1].subject
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.TOTP_REMOVED)
    assert event.user == event.actor == member_with_totp
    assert totp_client.get(reverse("security:personal")).status_code == HTTPStatus.OK

    mail.outbox.clear()
    other = Client()
    response = password_step(other, member_with_totp.email)
    assert response.url == reverse("accounts:login-email-sent")
    assert len(mail.outbox) == 1
    response = code_post(other, code_for(member_with_totp, offset=1, clock=clock))
    assert "_auth_user_id" not in other.session


def test_totp_remove_ends_other_sessions(totp_client, member_with_totp, clock):
    other = Client()
    password_step(other, member_with_totp.email)
    code_post(other, code_for(member_with_totp, offset=1, clock=clock))
    assert other.get(reverse("home")).status_code == HTTPStatus.OK
    totp_client.post(URL)
    assert other.get(reverse("home")).status_code == HTTPStatus.FOUND


def test_totp_remove_refused_while_account_requires_app(totp_client, member_with_totp):
    Account.objects.filter(pk=member_with_totp.account_id).update(require_totp=True)
    page = totp_client.get(URL)
    assert page.status_code == HTTPStatus.OK
    assert "requires an authenticator app" in page.content.decode()
    assert 'class="button button-danger"' not in page.content.decode()
    response = totp_client.post(URL)
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert TOTPDevice.objects.filter(user=member_with_totp, confirmed_at__isnull=False).exists()
    assert RecoveryCode.objects.filter(user=member_with_totp).count() == 10
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.TOTP_REMOVED).exists()
    assert not mail.outbox


def test_totp_remove_needs_csrf(totp_client, member_with_totp):
    totp_client.handler.enforce_csrf_checks = True
    assert totp_client.post(URL).status_code == HTTPStatus.FORBIDDEN
    assert TOTPDevice.objects.filter(user=member_with_totp).exists()


def test_totp_remove_then_enroll_again_new_secret(totp_client, member_with_totp):
    from security.totp import services as totp_services

    totp_client.post(URL)
    totp_client.post(reverse("security:enroll"))
    secret = totp_services.device_secret(totp_services.enrollment_device(user=member_with_totp))
    assert secret != member_with_totp.totp_secret
