"""Support staff in the Django admin: behind the full sign-in, least privilege, no secrets."""

from http import HTTPStatus

from django.contrib.auth.models import Group
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.services import account_create
from security.models import SecurityEvent, TOTPDevice
from security.recovery_codes.services import recovery_codes_list
from tests.conftest import PASSWORD, enroll_totp, password_step, sign_in_with_link
from tests.staff import admin_action

CHANGELIST = reverse("admin:accounts_user_changelist")


def test_support_group_holds_least_permissions(db):
    perms = sorted(
        f"{p.content_type.app_label}.{p.codename}"
        for p in Group.objects.get(name="Support").permissions.all()
    )
    assert perms == [
        "accounts.support_member",
        "accounts.view_account",
        "accounts.view_user",
        "security.view_securityevent",
    ]


def test_admin_login_page_sends_staff_to_full_sign_in(client, support_user):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("accounts:login"))


def test_admin_refused_during_pending_login(client, support_user):
    password_step(client, support_user.email)
    for path in ("/admin/", "/admin/login/", CHANGELIST):
        response = client.get(path)
        assert response.status_code == HTTPStatus.FOUND
        assert response.url == reverse("accounts:login-email-sent")


def test_admin_refused_to_signed_in_non_staff(signed_in):
    response = signed_in.get("/admin/")
    assert response.status_code in (HTTPStatus.FOUND, HTTPStatus.FORBIDDEN)
    if response.status_code == HTTPStatus.FOUND:
        assert signed_in.get(response.url).status_code == HTTPStatus.FORBIDDEN


def test_admin_reachable_after_second_step(support_client):
    assert support_client.get("/admin/").status_code == HTTPStatus.OK


def test_admin_user_search_and_filters(support_client, member, other_admin):
    enroll_totp(member)
    found = support_client.get(CHANGELIST, {"q": "member@acme"}).content.decode()
    assert "member@acme.test" in found and "admin@globex.test" not in found
    by_factor = support_client.get(CHANGELIST, {"factor": "totp"}).content.decode()
    assert "member@acme.test" in by_factor and "admin@acme.test" not in by_factor
    by_email = support_client.get(CHANGELIST, {"factor": "email_link"}).content.decode()
    assert "admin@acme.test" in by_email and "member@acme.test" not in by_email
    by_account = support_client.get(CHANGELIST, {"account__id__exact": other_admin.account_id})
    assert "admin@globex.test" in by_account.content.decode()
    assert "member@acme.test" not in by_account.content.decode()


def test_admin_never_shows_secrets(support_client, member):
    secret = enroll_totp(member)
    codes = [code for code, _used in recovery_codes_list(user=member)]
    member.refresh_from_db()
    pages = [
        support_client.get(CHANGELIST).content.decode(),
        support_client.get(
            reverse("admin:accounts_user_change", args=[member.pk])
        ).content.decode(),
        support_client.get(
            reverse("admin:accounts_account_change", args=[member.account_id])
        ).content.decode(),
    ]
    for html in pages:
        assert secret not in html
        assert member.password not in html
        assert member.password.split("$")[-1] not in html
        for code in codes:
            assert code not in html and code.replace("-", "") not in html
    assert "Authenticator app" in pages[1]


def test_admin_readd_action_resets_member(support_client, member):
    member_client = Client()
    sign_in_with_link(member_client, member.email)
    assert member_client.get(reverse("home")).status_code == HTTPStatus.OK
    enroll_totp(member)
    response = admin_action(support_client, "readd_members", member, confirm=True)
    assert response.status_code == HTTPStatus.OK
    assert "Re-added 1 member" in response.content.decode()
    fresh = User.objects.get(email=member.email)
    assert fresh.pk != member.pk and fresh.account_id == member.account_id
    assert not fresh.has_usable_password()
    assert not TOTPDevice.objects.filter(user=fresh).exists()
    assert mail.outbox[-1].to == [member.email] and "/invite/" in mail.outbox[-1].body
    assert password_step(Client(), member.email).status_code == HTTPStatus.BAD_REQUEST
    assert member_client.get(reverse("home")).status_code == HTTPStatus.FOUND
    event = SecurityEvent.objects.get(kind="member_readded")
    assert event.actor_email == "help@twofactor.test"


def test_admin_remove_action_keeps_last_admin(support_client, account_admin):
    response = admin_action(support_client, "remove_members", account_admin)
    assert "at least one Account Admin" in response.content.decode()
    assert User.objects.filter(pk=account_admin.pk).exists()


def test_admin_actions_need_support_permission(member):
    viewer = User.objects.create_user("viewer@twofactor.test", PASSWORD, is_staff=True)
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_user"))
    client = Client()
    sign_in_with_link(client, viewer.email)
    html = client.get(CHANGELIST).content.decode()
    assert "readd_members" not in html
    client.post(CHANGELIST, {"action": "readd_members", "_selected_action": [member.pk]})
    assert User.objects.filter(pk=member.pk).exists()


def test_admin_cannot_change_requirement_or_security_log(support_client, account_admin):
    account_create(name="Initech", admin_email="boss@initech.test", admin_password=PASSWORD)
    change = support_client.get(
        reverse("admin:accounts_account_change", args=[account_admin.account_id])
    )
    html = change.content.decode()
    assert 'name="require_totp"' not in html
    assert 'name="require_from' not in html and 'name="grace_days"' not in html
    event = SecurityEvent.objects.first()
    url = reverse("admin:security_securityevent_change", args=[event.pk])
    assert support_client.get(url).status_code == HTTPStatus.OK
    assert support_client.post(url, {"kind": "sign_in"}).status_code == HTTPStatus.FORBIDDEN


def test_admin_offers_no_delete_that_skips_the_removal_service(root_client, member, account):
    for url in (
        reverse("admin:accounts_user_delete", args=[member.pk]),
        reverse("admin:accounts_account_delete", args=[account.pk]),
    ):
        assert root_client.post(url, {"post": "yes"}).status_code == HTTPStatus.FORBIDDEN
    response = root_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [member.pk], "post": "yes"}
    )
    assert User.objects.filter(pk=member.pk).exists()
    assert response.status_code in (HTTPStatus.OK, HTTPStatus.FOUND)


def test_admin_cannot_change_team_role_or_identity(root_client, member, other_admin):
    url = reverse("admin:accounts_user_change", args=[member.pk])
    html = root_client.get(url).content.decode()
    for field in ("account", "role", "identity"):
        assert f'name="{field}"' not in html
    root_client.post(
        url,
        {
            "email": member.email,
            "name": "Renamed",
            "account": other_admin.account_id,
            "role": "admin",
            "identity": "sso",
            "is_active": "on",
        },
    )
    member.refresh_from_db()
    assert (member.account_id, member.role, member.identity) == (
        member.account_id,
        User.Role.MEMBER,
        User.Identity.PASSWORD,
    )
    assert member.account_id != other_admin.account_id


def test_staff_without_a_team_are_not_offered_the_team_page(support_client):
    html = support_client.get(reverse("home")).content.decode()
    assert reverse("accounts:team") not in html
    assert reverse("admin:index") in html


def test_deactivating_a_member_ends_their_trusts_and_sessions(
    clock, root_client, member_with_totp
):
    from accounts.models import TrustedBrowser
    from tests.conftest import is_signed_in
    from tests.security.conftest import code_for, code_post

    member = member_with_totp
    here = Client()
    password_step(here, member.email)
    assert code_post(here, code_for(member, clock=clock), trust="on").status_code == 302
    assert TrustedBrowser.objects.filter(user=member).exists()
    url = reverse("admin:accounts_user_change", args=[member.pk])
    fields = {"email": member.email, "name": member.name}
    assert root_client.post(url, fields).status_code == HTTPStatus.FOUND  # is_active off
    member.refresh_from_db()
    assert not member.is_active
    assert not is_signed_in(here)
    assert not TrustedBrowser.objects.filter(user=member).exists()
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.ALL_SESSIONS_ENDED)
    assert event.user == member and event.actor_email == "root@twofactor.test"
    root_client.post(url, {**fields, "is_active": "on"})
    member.refresh_from_db()
    assert member.is_active
    # Back on: the browser it trusted asks for the code again.
    assert password_step(here, member.email).url == reverse("accounts:login-code")
    assert not is_signed_in(here)
