"""The member's two-factor pages: security:personal and security:manage."""

import html

import pytest
from django.urls import reverse

from accounts.models import Account
from security.totp import codes as totp

PERSONAL = reverse("security:personal")
MANAGE = reverse("security:manage")


@pytest.mark.django_db
@pytest.mark.parametrize("url", [PERSONAL, MANAGE])
def test_manage_pages_need_sign_in(client, url):
    assert client.get(url).url.startswith(reverse("accounts:login"))


def test_personal_email_link_member_offered_the_app(signed_in):
    page = signed_in.get(PERSONAL).content.decode()
    assert "Email link" in page
    assert reverse("security:enroll") in page


def test_personal_app_member_sees_manage(totp_client):
    page = totp_client.get(PERSONAL).content.decode()
    assert "Authenticator app: on" in page
    assert MANAGE in page


def test_manage_without_app_goes_to_personal(signed_in):
    assert signed_in.get(MANAGE).url == PERSONAL


def test_manage_shows_remaining_and_actions(totp_client):
    response = totp_client.get(MANAGE)
    page = response.content.decode()
    assert "You have 10 unused recovery codes" in page
    assert reverse("security:recovery-codes") in page
    assert reverse("security:totp-remove") in page
    assert "no-store" in response.headers["Cache-Control"]


def test_manage_required_app_cannot_be_removed(totp_client, member_with_totp):
    Account.objects.filter(pk=member_with_totp.account_id).update(require_totp=True)
    page = totp_client.get(MANAGE).content.decode()
    assert reverse("security:totp-remove") not in page
    assert "requires an authenticator app" in page


@pytest.mark.parametrize("url", [PERSONAL, MANAGE])
def test_manage_pages_never_show_the_secret(totp_client, member_with_totp, url):
    page = html.unescape(totp_client.get(url).content.decode())
    secret = member_with_totp.totp_secret
    assert secret not in page
    assert totp.secret_grouped(secret) not in page
    assert "<svg" not in page
