from http import HTTPStatus

from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import SignInLink, User
from security.models import RecoveryCode, SecurityEvent, TOTPDevice
from tests.conftest import PASSWORD, enroll_totp, password_step, sign_in_with_link


def remove_url(user) -> str:
    return reverse("accounts:member-remove", args=[user.pk])


def test_member_remove_asks_for_confirmation(admin_client, member):
    response = admin_client.get(remove_url(member))
    assert response.status_code == HTTPStatus.OK
    assert "Remove member@acme.test?" in response.content.decode()
    assert User.objects.filter(pk=member.pk).exists()


def test_member_remove_ends_sessions_and_kills_factors(admin_client, member):
    member_client = Client()
    sign_in_with_link(member_client, member.email)
    assert member_client.get(reverse("home")).status_code == HTTPStatus.OK
    enroll_totp(member)
    pending = Client()
    password_step(pending, member.email)

    response = admin_client.post(remove_url(member))

    assert response.status_code == HTTPStatus.FOUND
    assert not User.objects.filter(email=member.email).exists()
    assert member_client.get(reverse("home")).status_code == HTTPStatus.FOUND
    assert not TOTPDevice.objects.filter(user_id=member.pk).exists()
    assert not RecoveryCode.objects.filter(user_id=member.pk).exists()
    assert not SignInLink.objects.filter(user_id=member.pk).exists()
    event = SecurityEvent.objects.get(kind="member_removed")
    assert event.user_email == member.email and event.actor_email == "admin@acme.test"


def test_member_remove_then_readd_starts_clean(admin_client, member):
    enroll_totp(member)
    admin_client.post(remove_url(member))
    mail.outbox.clear()
    admin_client.post(reverse("accounts:member-add"), {"email": member.email})
    fresh = User.objects.get(email=member.email)
    assert fresh.pk != member.pk
    assert not fresh.has_usable_password()
    assert not TOTPDevice.objects.filter(user=fresh).exists()
    assert "/invite/" in mail.outbox[-1].body
    # The old password no longer works.
    assert password_step(Client(), member.email, PASSWORD).status_code == HTTPStatus.BAD_REQUEST
    assert SecurityEvent.objects.filter(kind="member_readded", user=fresh).exists()


def test_member_remove_last_admin_refused(admin_client, account_admin):
    response = admin_client.post(remove_url(account_admin), follow=True)
    assert "at least one Account Admin" in response.content.decode()
    assert User.objects.filter(pk=account_admin.pk).exists()


def test_member_remove_other_account_member_is_not_found(admin_client, other_admin):
    assert admin_client.get(remove_url(other_admin)).status_code == HTTPStatus.NOT_FOUND
    assert admin_client.post(remove_url(other_admin)).status_code == HTTPStatus.NOT_FOUND
    assert User.objects.filter(pk=other_admin.pk).exists()


def test_member_remove_refused_to_members(signed_in, account_admin):
    assert signed_in.post(remove_url(account_admin)).status_code == HTTPStatus.FORBIDDEN
    assert User.objects.filter(pk=account_admin.pk).exists()


def test_member_remove_needs_csrf(admin_client, member):
    admin_client.handler.enforce_csrf_checks = True
    assert admin_client.post(remove_url(member)).status_code == HTTPStatus.FORBIDDEN
    assert User.objects.filter(pk=member.pk).exists()
