from http import HTTPStatus

from django.core import mail
from django.urls import reverse

from accounts.models import Account
from security.models import SecurityEvent
from tests.conftest import enroll_totp

SECURITY = reverse("security:security")


def test_security_page_enable_disabled_until_admin_has_app(admin_client):
    response = admin_client.get(SECURITY)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "Require two-factor authentication for all team members" in html
    assert 'disabled aria-describedby="require-why"' in html
    assert "first set up an authenticator app or a passkey on your own account" in html
    assert reverse("security:enroll") in html
    assert reverse("security:passkey-add") in html


def test_security_page_enable_refused_without_own_app(admin_client, account):
    response = admin_client.post(SECURITY, {"require": "on"}, follow=True)
    assert "Set up an authenticator app on your own account first" in response.content.decode()
    account.refresh_from_db()
    assert not account.require_totp


def test_security_page_enable_with_own_app_requires_it_and_tells_the_team(
    admin_client, account_admin, member, sso_member
):
    enroll_totp(account_admin, client=admin_client)
    html = admin_client.get(SECURITY).content.decode()
    assert "disabled aria-describedby" not in html
    response = admin_client.post(SECURITY, {"require": "on"})
    assert response.status_code == HTTPStatus.FOUND
    assert Account.objects.get(pk=account_admin.account_id).require_totp
    told = sorted(address for message in mail.outbox for address in message.to)
    assert told == ["member@acme.test"]  # not the admin who did it, not the SSO member
    event = SecurityEvent.objects.get(kind="requirement_on")
    assert event.actor_email == account_admin.email and event.account_id == account_admin.account_id


def test_security_page_disable_turns_requirement_off(admin_client, account_admin, account):
    enroll_totp(account_admin, client=admin_client)
    admin_client.post(SECURITY, {"require": "on"})
    response = admin_client.post(SECURITY, {"require": "off"})
    assert response.status_code == HTTPStatus.FOUND
    account.refresh_from_db()
    assert not account.require_totp
    assert SecurityEvent.objects.filter(kind="requirement_off").exists()


def test_security_page_refused_to_members(signed_in, account):
    assert signed_in.get(SECURITY).status_code == HTTPStatus.FORBIDDEN
    assert signed_in.post(SECURITY, {"require": "on"}).status_code == HTTPStatus.FORBIDDEN
    account.refresh_from_db()
    assert not account.require_totp


def test_security_page_other_accounts_admin_changes_only_their_own(account, other_admin):
    from django.test import Client

    from tests.conftest import sign_in_with_link

    client = Client()
    sign_in_with_link(client, other_admin.email)
    enroll_totp(other_admin, client=client)
    html = client.get(SECURITY).content.decode()
    assert "Acme" not in html and "admin@acme.test" not in html
    client.post(SECURITY, {"require": "on"})
    account.refresh_from_db()
    assert not account.require_totp
    assert Account.objects.get(pk=other_admin.account_id).require_totp


def test_security_page_lists_account_events_paged(admin_client, account_admin):
    from security.events import event_record

    for _ in range(30):
        event_record(kind="code_failed", user=account_admin)
    first = admin_client.get(SECURITY).content.decode()
    assert "Page 1 of 2" in first
    assert "Page 2 of 2" in admin_client.get(SECURITY + "?page=2").content.decode()
    assert admin_client.get(SECURITY + "?page=nonsense").status_code == HTTPStatus.OK
    # Another script's 2 is no page number: the first page, as for any other bad number.
    assert "Page 1 of 2" in admin_client.get(SECURITY + "?page=\uff12").content.decode()


def test_security_page_needs_sign_in(client):
    response = client.get(SECURITY)
    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("accounts:login"))
