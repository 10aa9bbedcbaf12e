"""Session lifetimes (named settings, enforced by the app whatever the store does), and the
sessions that a factor change, a removal or a password reset must end."""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.tokens import password_reset_tokens
from security.recovery_codes import services as recovery_code_services
from security.totp import services as totp_services
from tests.conftest import (
    current_code,
    is_signed_in,
    link_from_outbox,
    password_step,
    path_of,
    recovery_code_post,
    sign_in_with_link,
)

HOME = reverse("home")


def test_idle_lifetime_is_a_setting_and_ends_an_unused_session(settings, clock, client, member):
    settings.SESSION_IDLE_MINUTES = 30
    sign_in_with_link(client, member.email)
    clock.advance(minutes=29)
    assert is_signed_in(client)
    clock.advance(minutes=29)  # used a moment ago: the window slides
    assert is_signed_in(client)
    clock.advance(minutes=31)
    assert not is_signed_in(client)
    assert not is_signed_in(client)  # ended, not just refused once


def test_signed_in_requests_rewrite_the_session_at_most_once_a_minute(clock, client, member):
    """The idle window slides without writing the session on every request: a page within a
    minute of the last write leaves the store (and the cookie) alone; a later one moves it."""
    sign_in_with_link(client, member.email)
    clock.advance(minutes=0.5)
    response = client.get(HOME)
    assert response.status_code == HTTPStatus.OK
    assert "sessionid" not in response.cookies
    clock.advance(minutes=1)
    response = client.get(HOME)
    assert response.status_code == HTTPStatus.OK
    assert response.cookies["sessionid"].value == client.cookies["sessionid"].value


def test_idle_lifetime_counts_from_a_recorded_request_never_later(settings, clock, client, member):
    """The recorded last request may lag the real one by under a minute: the session then ends
    that much early, never late."""
    settings.SESSION_IDLE_MINUTES = 30
    sign_in_with_link(client, member.email)
    clock.advance(minutes=0.5)
    assert is_signed_in(client)  # not recorded: within a minute of the sign-in
    clock.advance(minutes=29.6)  # 30.1 minutes after the recorded time, 29.6 after this use
    assert not is_signed_in(client)


def test_absolute_lifetime_is_a_setting_and_ends_a_busy_session(settings, clock, client, member):
    settings.SESSION_ABSOLUTE_HOURS = 1
    settings.SESSION_IDLE_MINUTES = 30
    sign_in_with_link(client, member.email)
    for _ in range(3):
        clock.advance(minutes=19)
        assert is_signed_in(client)
    clock.advance(minutes=4)  # 61 minutes after sign-in, though used 4 minutes ago
    assert not is_signed_in(client)


def test_lifetimes_default_to_a_working_day_and_an_hour(settings):
    assert settings.SESSION_ABSOLUTE_HOURS <= 12
    assert settings.SESSION_IDLE_MINUTES <= 60
    assert settings.SESSION_COOKIE_AGE <= settings.SESSION_IDLE_MINUTES * 60


def _two_sessions(user) -> tuple[Client, Client]:
    here, elsewhere = Client(), Client()
    for client in (here, elsewhere):
        sign_in_with_link(client, user.email)
        assert is_signed_in(client)
    return here, elsewhere


def test_adding_the_app_ends_other_sessions_not_this_one(member):
    here, elsewhere = _two_sessions(member)
    here.post(reverse("security:enroll"))
    device = totp_services.enrollment_device(user=member)
    code = current_code(totp_services.device_secret(device))
    response = here.post(reverse("security:enroll-app"), {"code": code})
    assert response.status_code == HTTPStatus.FOUND
    assert is_signed_in(here)
    assert not is_signed_in(elsewhere)


def _two_code_sessions(member_with_totp) -> tuple[Client, Client]:
    """The member signed in twice, each time with one of their recovery codes."""
    here, elsewhere = Client(), Client()
    codes = recovery_code_services.recovery_codes_list(user=member_with_totp)
    for client, (code, _used) in zip((here, elsewhere), codes):
        password_step(client, member_with_totp.email)
        recovery_code_post(client, code)
        assert is_signed_in(client)
    return here, elsewhere


@pytest.mark.parametrize(
    "change",
    [
        pytest.param("security:totp-remove", id="removing_the_app"),
        pytest.param("security:recovery-codes-regenerate", id="regenerating_recovery_codes"),
    ],
)
def test_factor_change_ends_other_sessions_not_this_one(member_with_totp, change):
    here, elsewhere = _two_code_sessions(member_with_totp)
    response = here.post(reverse(change))
    assert response.status_code == HTTPStatus.FOUND
    assert is_signed_in(here)
    assert not is_signed_in(elsewhere)


def test_removing_a_member_ends_their_sessions_and_links(admin_client, member):
    signed_in = Client()
    sign_in_with_link(signed_in, member.email)
    pending = Client()
    password_step(pending, member.email)
    response = admin_client.post(reverse("accounts:member-remove", args=[member.pk]))
    assert response.status_code == HTTPStatus.FOUND
    assert not is_signed_in(signed_in)
    assert pending.post(reverse("accounts:login-resend")).status_code == HTTPStatus.FOUND
    assert not is_signed_in(pending)


def test_password_reset_ends_every_session(member):
    signed_in = Client()
    sign_in_with_link(signed_in, member.email)
    resetting = Client()
    member.refresh_from_db()  # the token covers last_login, which signing in changed
    uid = urlsafe_base64_encode(force_bytes(member.pk))
    token = password_reset_tokens.make_token(member)
    form = resetting.get(reverse("accounts:password-reset-confirm", args=[uid, token]))
    new = "another long passphrase 7"
    done = resetting.post(form.url, {"new_password1": new, "new_password2": new})
    assert done.status_code == HTTPStatus.FOUND
    assert not is_signed_in(signed_in)
    assert not is_signed_in(resetting)  # a reset signs no one in


def test_logout_ends_the_session_on_the_server(member):
    client = Client()
    sign_in_with_link(client, member.email)
    stolen = client.cookies["sessionid"].value
    client.post(reverse("accounts:logout"))
    replay = Client()
    replay.cookies["sessionid"] = stolen
    assert not is_signed_in(replay)


def test_a_pending_link_login_dies_when_the_member_adds_an_app(member):
    """Browser B holds a password step and its emailed link; meanwhile the member, signed in
    in browser A, turns on an authenticator app. B's link must not sign anyone in."""
    here = Client()
    sign_in_with_link(here, member.email)
    elsewhere = Client()
    password_step(elsewhere, member.email)
    link = path_of(link_from_outbox())
    here.post(reverse("security:enroll"))
    device = totp_services.enrollment_device(user=member)
    code = current_code(totp_services.device_secret(device))
    assert here.post(reverse("security:enroll-app"), {"code": code}).status_code == HTTPStatus.FOUND

    elsewhere.get(link)
    elsewhere.post(reverse("accounts:login-link"))
    assert not is_signed_in(elsewhere)
    assert is_signed_in(here)


def test_a_pending_code_login_dies_with_a_password_reset(member_with_totp):
    """Browser B passed the password step with the old password; the owner resets it. B's
    right code must not sign in with the old password."""
    from django.core import mail


    attacker = Client()
    assert password_step(attacker, member_with_totp.email).url == reverse("accounts:login-code")
    owner = Client()
    owner.post(reverse("accounts:password-reset"), {"email": member_with_totp.email})
    reset = path_of(
        re.search(r"https?://\S+/password-reset/\S+/\S+/", mail.outbox[-1].body).group(0)
    )
    form = owner.get(reset, follow=True).redirect_chain[-1][0]
    new = "a completely new passphrase"
    owner.post(form, {"new_password1": new, "new_password2": new})

    response = attacker.post(
        reverse("accounts:login-code"), {"code": current_code(member_with_totp.totp_secret)}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("accounts:login")
    assert not is_signed_in(attacker)
