"""Team Members: an Account Admin switches a password member to single sign-on."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from security.models import RecoveryCode, SecurityEvent, TOTPDevice
from security.policy import Method, method_of
from tests.conftest import PASSWORD, sign_in_with_link

pytestmark = pytest.mark.django_db


@pytest.fixture
def routed(account, settings):
    """Acme's SSO on with acme.test verified, without a provider call (none is made here)."""
    from django.utils import timezone

    from accounts.sso.models import Connection, Domain

    Connection.objects.create(
        account=account,
        issuer="https://idp.example",
        client_id="c",
        client_secret_encrypted="x",
        enabled=True,
    )
    Domain.objects.create(account=account, domain="acme.test", verified_at=timezone.now())


def url(member) -> str:
    return reverse("sso:member-convert", args=[member.pk])


def test_team_page_offers_the_switch_only_with_sso_on(admin_client, member, account):
    assert url(member).encode() not in admin_client.get(reverse("accounts:team")).content


def test_team_page_offers_the_switch_for_password_members(
    admin_client, member, sso_member, account_admin, routed
):
    page = admin_client.get(reverse("accounts:team")).content
    assert url(member).encode() in page
    assert url(sso_member).encode() not in page
    assert url(account_admin).encode() not in page  # not yourself


def test_team_page_shows_sso_members_as_single_sign_on(admin_client, sso_member):
    page = admin_client.get(reverse("accounts:team")).content.decode()
    assert "Single sign-on" in page
    assert method_of(sso_member) == Method.SSO


def test_switch_asks_first(admin_client, member, routed):
    response = admin_client.get(url(member))
    assert response.status_code == HTTPStatus.OK
    assert b"password, authenticator app and recovery codes are removed" in response.content
    assert not User.objects.get(pk=member.pk).is_sso


def test_switch_removes_password_and_factors_and_ends_sessions(
    client, member_with_totp, admin_client, routed
):
    from tests.conftest import current_code, password_step

    member = member_with_totp
    assert RecoveryCode.objects.filter(user=member).exists()
    # The member is signed in elsewhere.
    password_step(client, member.email)
    client.post(reverse("accounts:login-code"), {"code": current_code(member.totp_secret)})
    assert client.get(reverse("home")).status_code == HTTPStatus.OK
    mail.outbox.clear()

    response = admin_client.post(url(member))
    assert response.status_code == HTTPStatus.FOUND
    member.refresh_from_db()
    assert member.is_sso and not member.has_usable_password()
    assert not TOTPDevice.objects.filter(user=member).exists()
    assert not RecoveryCode.objects.filter(user=member).exists()
    assert client.get(reverse("home")).status_code == HTTPStatus.FOUND  # signed out there
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.MEMBER_CONVERTED_TO_SSO)
    assert event.user == member and event.actor.email == "admin@acme.test"
    assert [m.to for m in mail.outbox] == [[member.email]]
    assert "single sign-on" in mail.outbox[0].subject


def test_switch_needs_sso_on_for_the_members_domain(admin_client, member):
    response = admin_client.post(url(member))
    assert response.status_code == HTTPStatus.FOUND
    assert not User.objects.get(pk=member.pk).is_sso


def test_switch_of_yourself_is_refused(admin_client, account_admin, routed):
    admin_client.post(url(account_admin))
    assert not User.objects.get(pk=account_admin.pk).is_sso


def test_switch_is_for_account_admins_only(client, member, routed, account):
    from accounts.services import member_add

    other = member_add(account=account, email="other@acme.test", password=PASSWORD)
    sign_in_with_link(client, member.email)
    assert client.post(url(other)).status_code == HTTPStatus.FORBIDDEN
    assert not User.objects.get(pk=other.pk).is_sso


def test_switch_of_another_teams_member_is_not_found(admin_client, other_admin, routed):
    assert admin_client.post(url(other_admin)).status_code == HTTPStatus.NOT_FOUND


def test_switched_member_is_exempt_from_the_requirement(admin_client, member, account, routed):
    from security.policy import must_enroll, requirement_applies

    admin_client.post(url(member))
    account.require_totp = True
    account.save()
    member.refresh_from_db()
    assert not requirement_applies(member) and not must_enroll(member)
