"""Turning the requirement on or off asks first (security:requirement-confirm): the page says
what will happen, and only its button, posting to the Security page, makes the change."""

from http import HTTPStatus

from django.urls import reverse

from accounts.models import Account
from security.models import SecurityEvent
from tests.conftest import enroll_totp

CONFIRM = reverse("security:requirement-confirm")
SECURITY = reverse("security:security")


def test_security_page_buttons_ask_first(admin_client, account_admin):
    enroll_totp(account_admin, client=admin_client)
    html = admin_client.get(SECURITY).content.decode()
    assert f'<form method="get" action="{CONFIRM}">' in html


def test_confirm_on_counts_who_must_set_up_and_changes_nothing(
    admin_client, account_admin, member, sso_member, account
):
    enroll_totp(account_admin, client=admin_client)
    response = admin_client.get(CONFIRM, {"require": "on"})
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "Require an authenticator app for the whole team?" in html
    assert "1 team member who signs in with a password has no app yet" in html
    assert f'action="{SECURITY}"' in html and 'name="require" value="on"' in html
    account.refresh_from_db()
    assert not account.require_totp
    assert not SecurityEvent.objects.filter(kind="requirement_on").exists()


def test_confirm_off_says_what_members_may_do(admin_client, account_admin, account):
    enroll_totp(account_admin, client=admin_client)
    Account.objects.filter(pk=account.pk).update(require_totp=True)
    html = admin_client.get(CONFIRM, {"require": "off"}).content.decode()
    assert "Stop requiring an authenticator app?" in html
    assert 'name="require" value="off"' in html


def test_confirm_for_the_state_already_in_force_goes_back(admin_client, account_admin):
    enroll_totp(account_admin, client=admin_client)
    response = admin_client.get(CONFIRM, {"require": "off"})
    assert response.status_code == HTTPStatus.FOUND and response.url == SECURITY


def test_confirm_with_a_mangled_value_goes_back(admin_client, account_admin):
    for query in ({"require": "maybe"}, {}, {"require": ["on", "off"]}):
        response = admin_client.get(CONFIRM, query)
        assert response.status_code == HTTPStatus.FOUND and response.url == SECURITY


def test_confirm_on_without_own_app_says_why(admin_client):
    response = admin_client.get(CONFIRM, {"require": "on"}, follow=True)
    assert "Set up an authenticator app on your own account first" in response.content.decode()


def test_confirm_refused_to_members(signed_in):
    assert signed_in.get(CONFIRM, {"require": "on"}).status_code == HTTPStatus.FORBIDDEN
