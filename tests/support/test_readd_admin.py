"""Support can always help a locked-out Account Admin: remove and re-add works for a team's
only Account Admin too, after a confirmation page that says what will happen."""

from http import HTTPStatus

from django.contrib.auth.models import Permission
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts import services
from accounts.models import User
from security.models import SecurityEvent, TOTPDevice
from tests.conftest import PASSWORD, enroll_totp, password_step, sign_in_with_link
from tests.staff import admin_action, signed_in_client

CHANGELIST = reverse("admin:accounts_user_changelist")


def _assert_readded_as_admin(old: User, support_user: User) -> User:
    fresh = User.objects.get(email=old.email)
    assert fresh.pk != old.pk
    assert fresh.account_id == old.account_id and fresh.role == User.Role.ADMIN
    assert not fresh.has_usable_password()
    assert not TOTPDevice.objects.filter(user=fresh).exists()
    assert mail.outbox[-1].to == [old.email] and "/invite/" in mail.outbox[-1].body
    readded = SecurityEvent.objects.get(kind="member_readded", user_email=old.email)
    assert readded.actor_id == support_user.pk and readded.account_id == old.account_id
    assert SecurityEvent.objects.filter(kind="member_removed", user_email=old.email).count() == 1
    return fresh


def test_readd_action_first_shows_a_confirmation_page(support_client, account_admin):
    response = support_client.post(
        CHANGELIST, {"action": "readd_members", "_selected_action": [account_admin.pk]}
    )
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert account_admin.email in html
    for promise in ("signed out everywhere", "password", "authenticator app", "invitation"):
        assert promise in html, promise
    assert 'name="post" value="yes"' in html
    assert User.objects.filter(pk=account_admin.pk).exists()  # nothing happened yet
    assert not SecurityEvent.objects.filter(kind="member_removed").exists()


def test_support_readds_a_sole_locked_out_account_admin(
    support_client, support_user, account_admin
):
    locked_out = Client()
    sign_in_with_link(locked_out, account_admin.email)  # a session that must end
    enroll_totp(account_admin)
    response = admin_action(support_client, "readd_members", account_admin, confirm=True)
    assert response.status_code == HTTPStatus.OK
    assert "Re-added 1 member" in response.content.decode()
    assert "at least one Account Admin" not in response.content.decode()
    _assert_readded_as_admin(account_admin, support_user)
    assert password_step(Client(), account_admin.email).status_code == HTTPStatus.BAD_REQUEST
    assert locked_out.get(reverse("home")).status_code == HTTPStatus.FOUND


def test_readd_is_offered_on_the_members_own_admin_page(
    support_client, support_user, account_admin
):
    page = support_client.get(reverse("admin:accounts_user_change", args=[account_admin.pk]))
    readd_url = reverse("admin:accounts_user_readd", args=[account_admin.pk])
    assert readd_url in page.content.decode()
    confirm = support_client.get(readd_url)
    assert confirm.status_code == HTTPStatus.OK
    assert account_admin.email in confirm.content.decode()
    assert User.objects.filter(pk=account_admin.pk).exists()
    mail.outbox.clear()
    done = support_client.post(readd_url, {"post": "yes"})
    assert done.status_code == HTTPStatus.FOUND
    fresh = _assert_readded_as_admin(account_admin, support_user)
    assert done.url == reverse("admin:accounts_user_change", args=[fresh.pk])


def test_readd_page_needs_the_support_permission(member):
    viewer = User.objects.create_user("viewer@twofactor.test", PASSWORD, is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_user"))
    client = signed_in_client(viewer.email)
    readd_url = reverse("admin:accounts_user_readd", args=[member.pk])
    assert (
        readd_url
        not in client.get(reverse("admin:accounts_user_change", args=[member.pk])).content.decode()
    )
    assert client.post(readd_url, {"post": "yes"}).status_code == HTTPStatus.FORBIDDEN
    assert User.objects.filter(pk=member.pk).exists()


def test_readd_is_one_transaction(support_client, account_admin, monkeypatch):
    def failing_invite(**kwargs):
        raise RuntimeError("the invitation failed half-way")

    monkeypatch.setattr(services, "member_invite", failing_invite)
    response = support_client.post(
        reverse("admin:accounts_user_readd", args=[account_admin.pk]), {"post": "yes"}
    )
    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert User.objects.filter(pk=account_admin.pk, role=User.Role.ADMIN).exists()
    assert not SecurityEvent.objects.filter(kind="member_removed").exists()


def test_removing_the_sole_account_admin_is_still_refused(support_client, account_admin):
    """Re-adding is open to a team's only Account Admin; removing stays refused, for the
    re-added one too (test_support_admin refuses it for the admin as first added)."""
    admin_action(support_client, "readd_members", account_admin, confirm=True)
    readded = User.objects.get(email=account_admin.email)
    response = admin_action(support_client, "remove_members", readded)
    assert "at least one Account Admin" in response.content.decode()
    assert User.objects.filter(pk=readded.pk).exists()
