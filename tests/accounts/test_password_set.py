"""Tokens do one job each, and every way a password is set ends the member's other sessions,
retires their unused sign-in links and pending logins, logs the right event and emails them."""

from http import HTTPStatus

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import SignInLink, User
from accounts.services import member_invite
from accounts.tokens import invitation_tokens, password_reset_tokens
from security.models import SecurityEvent
from tests.conftest import (
    AUDIT,
    PASSWORD,
    enroll_totp,
    password_step,
    sign_in_with_link,
)

NEW_PASSWORD = "a brand new passphrase 42"


def _uid(user: User) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def _set_password_through(client: Client, url: str, password: str = NEW_PASSWORD):
    """Open a set-password link and submit the form, as the member's browser does."""
    form_page = client.get(url, follow=True)
    form_url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else url
    return client.post(form_url, {"new_password1": password, "new_password2": password})


def _invited(account, by) -> User:
    member, _sent = member_invite(audit=AUDIT, account=account, email="new@acme.test", by=by)
    mail.outbox.clear()
    return member


def test_a_reset_token_is_no_invitation(member):
    token = password_reset_tokens.make_token(member)
    url = reverse("accounts:invite-accept", args=[_uid(member), token])
    response = _set_password_through(Client(), url)
    member.refresh_from_db()
    assert member.check_password(PASSWORD), "a reset token set a password as an invitation"
    assert response.status_code in (HTTPStatus.OK, HTTPStatus.BAD_REQUEST)


def test_an_invitation_token_is_no_reset(account, account_admin):
    invited = _invited(account, account_admin)
    token = invitation_tokens.make_token(invited)
    url = reverse("accounts:password-reset-confirm", args=[_uid(invited), token])
    _set_password_through(Client(), url)
    invited.refresh_from_db()
    assert not invited.has_usable_password(), "an invitation token worked as a reset"


def test_a_reset_token_moved_into_the_session_opens_no_invitation_form(member):
    client = Client()
    token = password_reset_tokens.make_token(member)
    client.get(reverse("accounts:password-reset-confirm", args=[_uid(member), token]))
    # The reset view keeps the token in the session under Django's one key; the invitation's
    # "set-password" URL must not accept it.
    url = reverse("accounts:invite-accept", args=[_uid(member), "set-password"])
    client.post(url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    member.refresh_from_db()
    assert member.check_password(PASSWORD)


def test_the_generators_are_distinct_from_djangos_default(member):
    from django.contrib.auth.tokens import default_token_generator

    token = default_token_generator.make_token(member)
    assert not password_reset_tokens.check_token(member, token)
    assert not invitation_tokens.check_token(member, token)
    assert password_reset_tokens.key_salt != invitation_tokens.key_salt


def _reset_url(member: User) -> str:
    member.refresh_from_db()  # the token covers last_login
    return reverse(
        "accounts:password-reset-confirm",
        args=[_uid(member), password_reset_tokens.make_token(member)],
    )


def test_a_reset_ends_sessions_links_and_pending_logins_and_emails_the_member(member):
    signed_in = Client()
    sign_in_with_link(signed_in, member.email)
    enroll_totp(member)
    member_client = Client()
    password_step(member_client, member.email)  # a pending login at the code step
    SignInLink.objects.create(
        user=member, token_hash="x" * 64, browser_hash="y" * 64, expires_at="2999-01-01T00:00Z"
    )
    mail.outbox.clear()
    _set_password_through(Client(), _reset_url(member))
    member.refresh_from_db()
    assert member.check_password(NEW_PASSWORD)
    assert not SignInLink.objects.filter(user=member, retired_at=None, used_at=None).exists()
    response = member_client.get(reverse("accounts:login-code"))
    assert response.url == reverse("accounts:login")
    assert signed_in.get(reverse("home")).status_code == HTTPStatus.FOUND
    assert SecurityEvent.objects.filter(kind="password_reset", user=member).count() == 1
    _assert_password_email(member)


def test_accepting_an_invitation_logs_it_and_emails_the_member(account, account_admin):
    invited = _invited(account, account_admin)
    url = reverse(
        "accounts:invite-accept", args=[_uid(invited), invitation_tokens.make_token(invited)]
    )
    _set_password_through(Client(), url)
    invited.refresh_from_db()
    assert invited.check_password(NEW_PASSWORD)
    assert SecurityEvent.objects.filter(kind="password_set", user=invited).count() == 1
    _assert_password_email(invited)


def test_a_password_set_any_other_way_ends_sessions_and_is_logged_and_mailed(member):
    """Django's changepassword command, a shell: a saved new password is handled the same."""
    signed_in = Client()
    sign_in_with_link(signed_in, member.email)
    pending = Client()
    password_step(pending, member.email)
    mail.outbox.clear()
    user = User.objects.get(pk=member.pk)
    user.set_password(NEW_PASSWORD)
    user.save()
    assert signed_in.get(reverse("home")).status_code == HTTPStatus.FOUND
    assert not SignInLink.objects.filter(user=member, retired_at=None, used_at=None).exists()
    assert pending.get(reverse("accounts:login-email-sent")).url == reverse("accounts:login")
    assert SecurityEvent.objects.filter(kind="password_changed", user=member).count() == 1
    _assert_password_email(member)


class FastPBKDF2(PBKDF2PasswordHasher):
    iterations = 1000


def test_a_rehash_at_sign_in_is_not_a_password_change(member, settings):
    # The member's MD5 hash is upgraded to the first hasher at their next password step.
    settings.PASSWORD_HASHERS = [
        "tests.accounts.test_password_set.FastPBKDF2",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    mail.outbox.clear()
    password_step(Client(), member.email)
    member.refresh_from_db()
    assert member.password.startswith("pbkdf2_sha256$1000$")
    assert not SecurityEvent.objects.filter(kind="password_changed").exists()
    assert all("password" not in m.subject.lower() for m in mail.outbox)


def _assert_password_email(user: User) -> None:
    sent = [m for m in mail.outbox if m.to == [user.email] and "password" in m.subject.lower()]
    assert len(sent) == 1, [m.subject for m in mail.outbox]
    body = sent[0].body
    assert "support@example.com" in body  # how to get help if it was not them
    assert NEW_PASSWORD not in body and PASSWORD not in body


@pytest.mark.parametrize("view", ["accounts:password-reset-confirm", "accounts:invite-accept"])
def test_a_used_link_does_not_work_again(member, view, account, account_admin):
    user = member if view.endswith("confirm") else _invited(account, account_admin)
    generator = password_reset_tokens if view.endswith("confirm") else invitation_tokens
    url = reverse(view, args=[_uid(user), generator.make_token(user)])
    _set_password_through(Client(), url)
    _set_password_through(Client(), url, "yet another passphrase 7")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
