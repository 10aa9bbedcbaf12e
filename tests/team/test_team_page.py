from datetime import UTC, datetime, timedelta
from http import HTTPStatus

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from accounts.services import member_add
from tests.conftest import PASSWORD, enroll_totp, sign_in_with_link

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


def _row_of(html: str, email: str) -> str:
    row = html[html.index(email) :]
    return row[: row.index("</tr>")]


def test_team_page_says_when_set_up_is_due_while_the_requirement_is_scheduled(
    admin_client, account_admin, member, account
):
    enroll_totp(account_admin, client=admin_client)
    due = datetime.combine(timezone.now().date() + timedelta(days=10), datetime.min.time(), UTC)
    Account.objects.filter(pk=account.pk).update(require_totp=True, require_from=due)
    row = _row_of(admin_client.get(TEAM).content.decode(), member.email)
    assert f"Set-up due {due:%-d %b}" in row
    assert "Set-up pending" not in row
    # Their deadline passed: now they are sent to set-up, and the page says so.
    Account.objects.filter(pk=account.pk).update(require_from=timezone.now() - timedelta(days=1))
    row = _row_of(admin_client.get(TEAM).content.decode(), member.email)
    assert "Set-up pending" in row and "Set-up due" not in row


def test_team_page_says_when_a_newcomers_grace_period_ends(admin_client, account_admin, account):
    enroll_totp(account_admin, client=admin_client)
    Account.objects.filter(pk=account.pk).update(
        require_totp=True, require_from=timezone.now() - timedelta(days=1), grace_days=3
    )
    newcomer = member_add(account=account, email="new@acme.test", password=PASSWORD)
    due = newcomer.date_joined + timedelta(days=3)
    row = _row_of(admin_client.get(TEAM).content.decode(), newcomer.email)
    assert f"Set-up due {due:%-d %b}" in row and "Set-up pending" not in row
