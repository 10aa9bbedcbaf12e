"""Changing the team's SSO, or switching a member to it, asks for a recent proof of presence:
a password or code, or for an SSO member, a fresh sign-in at their provider."""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.presence import VERIFIED_AT_SESSION_KEY
from accounts.services import member_add
from accounts.sso.flow import SSO_LOGIN_SESSION_KEY
from accounts.sso.models import Connection
from tests.conftest import path_of
from tests.sso.test_login_sso import sign_in

pytestmark = pytest.mark.django_db


def make_stale(client) -> None:
    session = client.session
    session[VERIFIED_AT_SESSION_KEY] = 0
    session.save()


def test_stale_session_cannot_change_the_provider(admin_client, account):
    make_stale(admin_client)
    response = admin_client.post(
        reverse("sso:connection"),
        {"issuer": "https://evil.example", "client_id": "x", "client_secret": "y", "enabled": "on"},
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("security:reauth"))
    assert not Connection.objects.exists()


def test_stale_session_cannot_add_or_remove_domains(admin_client, account):
    make_stale(admin_client)
    response = admin_client.post(reverse("sso:domain-add"), {"domain": "acme.test"})
    assert response["Location"].startswith(reverse("security:reauth"))
    assert not account.sso_domains.exists()


def test_stale_session_cannot_switch_a_member(admin_client, member):
    make_stale(admin_client)
    response = admin_client.post(reverse("sso:member-convert", args=[member.pk]))
    assert response["Location"].startswith(reverse("security:reauth"))
    assert not User.objects.get(pk=member.pk).is_sso


@pytest.fixture
def sso_admin(account, sso_team):
    return member_add(
        account=account, email="ops@acme.test", identity=User.Identity.SSO, role=User.Role.ADMIN
    )


def test_reauth_page_offers_sso_to_sso_members(client, provider, sso_admin):
    sign_in(client, provider, sso_admin.email)
    page = client.get(reverse("security:reauth")).content.decode()
    assert "Confirm with single sign-on" in page


def test_sso_member_confirms_at_the_provider(client, provider, sso_admin):
    sign_in(client, provider, sso_admin.email)
    make_stale(client)
    response = client.post(reverse("sso:reauth"), {"next": "/settings/security/"})
    assert response["Location"] == reverse("sso:continue")
    url = client.session[SSO_LOGIN_SESSION_KEY]["authorization_url"]
    assert parse_qs(urlsplit(url).query)["prompt"] == ["login"]
    back = client.get(path_of(provider.sign_in(url, sso_admin.email)))
    assert back["Location"] == "/settings/security/"
    assert client.session[VERIFIED_AT_SESSION_KEY] > 0
    response = client.post(reverse("sso:domain-add"), {"domain": "acme.example"})
    assert response["Location"] == reverse("security:security")
    assert sso_admin.account.sso_domains.filter(domain="acme.example").exists()


def test_sso_reauth_as_someone_else_is_refused(client, provider, sso_admin, sso_member):
    sign_in(client, provider, sso_admin.email)
    make_stale(client)
    client.post(reverse("sso:reauth"), {"next": "/settings/security/"})
    url = client.session[SSO_LOGIN_SESSION_KEY]["authorization_url"]
    back = client.get(path_of(provider.sign_in(url, sso_member.email)))
    assert back.status_code == HTTPStatus.FORBIDDEN
    assert b"signed in someone else" in back.content
    assert client.session[VERIFIED_AT_SESSION_KEY] == 0
    assert int(client.session["_auth_user_id"]) == sso_admin.pk


def test_sso_reauth_for_password_member_is_refused(admin_client, sso_team):
    response = admin_client.post(reverse("sso:reauth"), {"next": "/settings/security/"})
    assert response["Location"] == reverse("security:reauth")
    assert SSO_LOGIN_SESSION_KEY not in admin_client.session
