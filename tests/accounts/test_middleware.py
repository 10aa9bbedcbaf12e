"""PendingLoginMiddleware and SessionLifetimeMiddleware."""

from http import HTTPStatus

import pytest
from django.urls import reverse

from tests.conftest import password_step


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/admin/",
        "/admin/login/",
        "/admin/accounts/user/",
        "/settings/personal/",
        "/settings/team/",
        "/settings/security/",
        "/login/",
        "/password-reset/",
        "/no-such-page/",
    ],
)
def test_pending_login_reaches_only_its_step(client, member, path):
    password_step(client, member.email)
    for method in (client.get, client.post):
        response = method(path)
        assert response.status_code == HTTPStatus.FOUND, path
        assert response.url == reverse("accounts:login-email-sent")


def test_pending_code_login_sent_to_code_step(client, member_with_totp):
    password_step(client, member_with_totp.email)
    response = client.get("/admin/login/")
    assert response.url == reverse("accounts:login-code")


def test_pending_login_of_staff_does_not_open_admin(client, member):
    type(member).objects.filter(pk=member.pk).update(is_staff=True, is_superuser=True)
    password_step(client, member.email)
    assert client.get("/admin/").url == reverse("accounts:login-email-sent")


def test_pending_login_static_files_still_served(client, member):
    password_step(client, member.email)
    assert client.get("/static/css/app.css").status_code == HTTPStatus.OK


def test_expired_pending_login_blocks_nothing(client, member, clock, settings):
    password_step(client, member.email)
    clock.advance(minutes=settings.TWOFACTOR_PENDING_LOGIN_MINUTES + 1)
    assert client.get(reverse("accounts:login")).status_code == HTTPStatus.OK
    response = client.get("/")
    assert response.url.startswith(reverse("accounts:login"))
    # And a new password step starts afresh.
    assert password_step(client, member.email).url == reverse("accounts:login-email-sent")
    assert client.get(reverse("accounts:login-email-sent")).status_code == HTTPStatus.OK


def test_session_absolute_lifetime_ends_session(signed_in, settings, clock):
    later = settings.SESSION_ABSOLUTE_HOURS * 60 + 1
    step = settings.SESSION_IDLE_MINUTES - 10  # a member at work all day: never idle too long
    for _ in range(later // step):
        clock.advance(minutes=step)
        assert signed_in.get(reverse("home")).status_code == HTTPStatus.OK
    clock.advance(minutes=later % step)
    response = signed_in.get(reverse("home"))
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("accounts:login")
    clock.advance(minutes=-later)
    assert signed_in.get(reverse("home")).status_code == HTTPStatus.FOUND


def test_session_within_lifetime_stays(signed_in):
    assert signed_in.get(reverse("home")).status_code == HTTPStatus.OK
