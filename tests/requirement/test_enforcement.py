"""While the account requires the app, a member without one can do nothing but enroll."""

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Account
from tests.conftest import current_code, enroll_totp, password_step, sign_in_with_link

ENROLL = reverse("security:enroll")
PAGES = [
    reverse("home"),
    reverse("security:personal"),
    reverse("accounts:team"),
    reverse("security:security"),
    "/admin/",
    "/no-such-page/",
]


@pytest.fixture
def required(account, account_admin):
    enroll_totp(account_admin)
    Account.objects.filter(pk=account.pk).update(require_totp=True)


@pytest.mark.parametrize("path", PAGES)
def test_enforcement_sends_member_without_app_to_enrollment(required, member, path):
    client = Client()
    assert sign_in_with_link(client, member.email).status_code == HTTPStatus.FOUND
    response = client.get(path)
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == ENROLL


def test_enforcement_applies_to_a_session_already_open(account, account_admin, member):
    client = Client()
    sign_in_with_link(client, member.email)
    assert client.get(reverse("home")).status_code == HTTPStatus.OK
    enroll_totp(account_admin)
    Account.objects.filter(pk=account.pk).update(require_totp=True)
    assert client.get(reverse("home")).url == ENROLL


def test_enforcement_walks_member_through_codes_then_app(required, member):
    client = Client()
    sign_in_with_link(client, member.email)
    page = client.get(ENROLL)
    assert page.status_code == HTTPStatus.OK
    assert "Your team requires" in page.content.decode()
    assert client.post(ENROLL).url == reverse("security:enroll-codes")
    codes = client.get(reverse("security:enroll-codes"))
    assert codes.status_code == HTTPStatus.OK
    assert client.get(reverse("security:enroll-codes-download")).status_code == HTTPStatus.OK
    assert client.post(reverse("security:enroll-codes"), {"saved": "yes"}).url == reverse(
        "security:enroll-app"
    )
    key = codes_key(client)
    done = client.post(reverse("security:enroll-app"), {"code": current_code(key)})
    assert done.url == reverse("security:enroll-done")
    assert client.get(reverse("home")).status_code == HTTPStatus.OK


def codes_key(client) -> str:
    import re

    html = client.get(reverse("security:enroll-app")).content.decode()
    return re.search(r'id="manual-key">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")


def test_enforcement_lets_member_sign_out(required, member):
    client = Client()
    sign_in_with_link(client, member.email)
    response = client.post(reverse("accounts:logout"))
    assert response.url == reverse("accounts:login")
    assert client.get(reverse("home")).status_code == HTTPStatus.FOUND


def test_enforcement_member_still_signs_in_with_link_until_enrolled(required, member):
    client = Client()
    assert password_step(client, member.email).url == reverse("accounts:login-email-sent")


def test_enforcement_leaves_members_with_an_app_alone(required, member_with_totp):
    client = Client()
    password_step(client, member_with_totp.email)
    client.post(
        reverse("accounts:login-code"), {"code": current_code(member_with_totp.totp_secret)}
    )
    assert client.get(reverse("home")).status_code == HTTPStatus.OK


def test_enforcement_exempts_sso_members(required, sso_member):
    client = Client()
    client.force_login(sso_member)
    session = client.session
    import time

    from accounts.presence import SIGNED_IN_AT_SESSION_KEY

    session[SIGNED_IN_AT_SESSION_KEY] = time.time()
    session.save()
    response = client.get(reverse("security:personal"))
    assert response.status_code == HTTPStatus.OK
    assert "identity provider manages your sign-in security" in response.content.decode()
    assert client.get(ENROLL).url == reverse("security:personal")


def test_enforcement_forbids_removing_own_app(required, account_admin):
    from security.models import TOTPDevice

    client = Client()
    password_step(client, account_admin.email)
    secret = account_admin_secret(account_admin)
    client.post(reverse("accounts:login-code"), {"code": current_code(secret)})
    # Signed in just now, so no re-authentication is asked for.
    response = client.post(reverse("security:totp-remove"))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "requires an authenticator app" in response.content.decode()
    assert TOTPDevice.objects.filter(user=account_admin, confirmed_at__isnull=False).exists()


def account_admin_secret(user) -> str:
    from security.totp.services import active_device, device_secret

    return device_secret(active_device(user))
