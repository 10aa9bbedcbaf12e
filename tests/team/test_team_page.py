from http import HTTPStatus

from django.test import Client
from django.urls import reverse

from tests.conftest import enroll_totp, sign_in_with_link

TEAM = reverse("accounts:team")


def test_team_page_lists_every_member_with_role_and_second_factor(admin_client, member, sso_member):
    enroll_totp(member)
    response = admin_client.get(TEAM)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    for email in ("admin@acme.test", "member@acme.test", "sso@acme.test"):
        assert email in html
    assert "Account Admin" in html
    assert 'badge-totp">Authenticator app' in html
    assert 'badge-email_link">Email link' in html
    assert 'badge-sso">Single sign-on' in html


def test_team_page_shows_last_sign_in(admin_client, member):
    html = admin_client.get(TEAM).content.decode()
    assert "Never" in html  # the member has not signed in yet
    assert "UTC" in html  # the admin just did


def test_team_page_offers_no_two_factor_toggle(admin_client, member):
    html = admin_client.get(TEAM).content.decode().lower()
    assert "disable two-factor" not in html
    assert "enable two-factor" not in html
    assert 'name="factor"' not in html


def test_team_page_shows_other_accounts_members_never(admin_client, other_admin):
    assert other_admin.email not in admin_client.get(TEAM).content.decode()


def test_team_page_for_member_is_read_only(signed_in, account_admin):
    response = signed_in.get(TEAM)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert account_admin.email in html
    assert reverse("accounts:member-add") not in html
    assert "Remove" not in html


def test_team_page_needs_sign_in(client, member):
    response = client.get(TEAM)
    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("accounts:login"))


def test_team_page_queries_do_not_grow_with_members(
    admin_client, account, django_assert_max_num_queries
):
    from accounts.services import member_add

    for number in range(15):
        member_add(account=account, email=f"m{number}@acme.test", password="x" * 12)
    with django_assert_max_num_queries(8):
        assert admin_client.get(TEAM).status_code == HTTPStatus.OK


def test_team_page_member_signs_in_then_sees_team(member):
    client = Client()
    sign_in_with_link(client, member.email)
    assert client.get(TEAM).status_code == HTTPStatus.OK
