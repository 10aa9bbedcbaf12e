"""The team requirement as a choice: "authenticator app" or "authenticator app or passkey";
Team Members, the Security page and the admin show keys as a second factor."""

from __future__ import annotations

from http import HTTPStatus

from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from accounts.models import Account, User
from security.models import SecurityEvent
from tests.conftest import PASSWORD, enroll_totp, page_text, sign_in_with_link
from tests.passkeys.conftest import add_passkey

SECURITY = reverse("security:security")
Kind = SecurityEvent.Kind


def require(account, *, passkeys: bool) -> None:
    Account.objects.filter(pk=account.pk).update(require_totp=True, accept_passkeys=passkeys)


def test_admin_with_only_a_passkey_can_require_app_or_passkey_not_app_alone(
    admin_client, account_admin, account
):
    add_passkey(account_admin, client=admin_client)
    page = page_text(admin_client.get(SECURITY))
    assert "Authenticator app or passkey" in page
    assert 'disabled aria-describedby="require-why"' not in page
    response = admin_client.post(SECURITY, {"require": "on", "accept": "app"}, follow=True)
    assert "Set up an authenticator app on your own account first" in page_text(response)
    account.refresh_from_db()
    assert not account.require_totp
    response = admin_client.post(SECURITY, {"require": "on", "accept": "app_or_passkey"})
    assert response.status_code == HTTPStatus.FOUND
    account.refresh_from_db()
    assert account.require_totp and account.accept_passkeys
    event = SecurityEvent.objects.get(kind=Kind.REQUIREMENT_ON)
    assert event.detail == {"accepts": "app_or_passkey"}
    assert "an authenticator app or a passkey" in page_text(admin_client.get(SECURITY))


def test_a_mangled_choice_changes_nothing(admin_client, account_admin, account):
    enroll_totp(account_admin, client=admin_client)
    for accept in (["maybe"], ["app", "app_or_passkey"]):
        response = admin_client.post(SECURITY, {"require": "on", "accept": accept})
        assert response.status_code == HTTPStatus.BAD_REQUEST
    account.refresh_from_db()
    assert not account.require_totp


def test_the_confirm_page_counts_who_has_no_accepted_factor(admin_client, account_admin, member):
    enroll_totp(account_admin, client=admin_client)
    add_passkey(member)
    url = reverse("security:requirement-confirm")
    page = page_text(admin_client.get(url, {"require": "on", "accept": "app"}))
    assert "1 team member who signs in with a password has no app yet" in page
    page = page_text(admin_client.get(url, {"require": "on", "accept": "app_or_passkey"}))
    assert "0 team members who sign in with a password have neither" in page


def test_member_with_only_a_passkey_is_not_sent_to_app_set_up_under_app_or_passkey(
    client, member, account
):
    _keys[member.pk] = add_passkey(member)
    require(account, passkeys=True)
    signed_in = Client()
    from tests.conftest import password_step
    from tests.passkeys.authenticator import options_in

    password_step(signed_in, member.email)
    answer = member_key(member).assert_(options_in(signed_in.get(reverse("accounts:login-passkey"))))
    signed_in.post(reverse("accounts:login-passkey"), {"answer": answer})
    assert signed_in.get(reverse("home")).status_code == HTTPStatus.OK
    # Narrowed to the app alone, the same member is sent to set it up.
    require(account, passkeys=False)
    response = signed_in.get(reverse("home"))
    assert response.url == reverse("security:enroll")


_keys = {}


def member_key(member):
    return _keys[member.pk]


def test_team_members_and_the_admin_show_passkeys(admin_client, account_admin, member, account, db):
    _keys[member.pk] = add_passkey(member)
    enroll_totp(account_admin, client=admin_client)
    page = page_text(admin_client.get(reverse("accounts:team")))
    assert 'badge-passkey">Passkey' in page
    require(account, passkeys=False)  # the app alone: the member's key does not count
    assert "Set-up pending" in page_text(admin_client.get(reverse("accounts:team")))

    support = User.objects.create_user("help@twofactor.test", PASSWORD, is_staff=True)
    support.groups.add(Group.objects.get(name="Support"))
    staff = Client()
    sign_in_with_link(staff, support.email)
    changelist = reverse("admin:accounts_user_changelist")
    assert "Passkey" in page_text(staff.get(changelist))
    listed = page_text(staff.get(changelist, {"factor": "passkey"}))
    assert member.email in listed and account_admin.email not in listed
    listed = page_text(staff.get(changelist, {"factor": "totp"}))
    assert member.email not in listed and account_admin.email in listed
    listed = page_text(staff.get(changelist, {"factor": "email_link"}))
    assert member.email not in listed and support.email in listed
    enroll_totp(member)
    change = page_text(staff.get(reverse("admin:accounts_user_change", args=[member.pk])))
    assert "Passkey, Authenticator app" in change


def test_removing_the_app_is_allowed_when_a_passkey_meets_the_requirement(signed_in, member, account):
    enroll_totp(member, client=signed_in)
    add_passkey(member, client=signed_in)
    require(account, passkeys=True)
    response = signed_in.post(reverse("security:totp-remove"))
    assert response.url == reverse("security:personal")
    assert member.recovery_codes.filter(active=True).count() == 10  # the passkey keeps them
    assert signed_in.get(reverse("home")).status_code == HTTPStatus.OK
    require(account, passkeys=False)
    assert signed_in.get(reverse("home")).url == reverse("security:enroll")


def test_switching_an_active_requirement_between_app_and_app_or_passkey(
    admin_client, account_admin, member, account
):
    """Through the Security page, as an Account Admin changes it: a member whose only factor
    is a passkey is sent to app set-up under "app", let in under "app or passkey", and sent
    to set-up again when it is narrowed back; a member with the app is let in throughout."""
    from tests.conftest import password_step
    from tests.passkeys.authenticator import options_in

    enroll_totp(account_admin, client=admin_client)
    key = add_passkey(member)
    assert admin_client.post(SECURITY, {"require": "on", "accept": "app"}).status_code == 302
    account.refresh_from_db()
    assert account.require_totp and not account.accept_passkeys

    browser = Client()
    password_step(browser, member.email)
    answer = key.assert_(options_in(browser.get(reverse("accounts:login-passkey"))))
    assert browser.post(reverse("accounts:login-passkey"), {"answer": answer}).status_code == 302
    assert browser.get(reverse("home")).url == reverse("security:enroll")

    assert admin_client.post(SECURITY, {"require": "on", "accept": "app_or_passkey"}).url == SECURITY
    account.refresh_from_db()
    assert account.require_totp and account.accept_passkeys
    assert browser.get(reverse("home")).status_code == HTTPStatus.OK
    assert admin_client.get(reverse("home")).status_code == HTTPStatus.OK

    assert admin_client.post(SECURITY, {"require": "on", "accept": "app"}).url == SECURITY
    account.refresh_from_db()
    assert not account.accept_passkeys
    assert browser.get(reverse("home")).url == reverse("security:enroll")
    assert admin_client.get(reverse("home")).status_code == HTTPStatus.OK
    kinds = list(
        SecurityEvent.objects.filter(kind=Kind.REQUIREMENT_ON).values_list("detail", flat=True)
    )
    assert {"accepts": "app_or_passkey"} in kinds and {"accepts": "app"} in kinds
