"""An email-link member is protected by their mailbox alone: a password reset, then the
emailed link. That is inherent to email as the only second step, so it is made loud: a
sign-in that follows a password reset from a browser that had not signed in as that member
before emails the member, and the team's Security page shows it to its Account Admins."""

from http import HTTPStatus

from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User
from accounts.tokens import password_reset_tokens
from security.models import SecurityEvent
from tests.conftest import sign_in_with_link

NEW_PASSWORD = "a brand new passphrase 42"
SUBJECT = "new sign-in after a password reset"


def _reset(client: Client, user: User) -> None:
    user = User.objects.get(pk=user.pk)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    form = client.get(
        reverse(
            "accounts:password-reset-confirm", args=[uid, password_reset_tokens.make_token(user)]
        )
    )
    client.post(form.url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})


def _notices(user: User) -> list:
    return [m for m in mail.outbox if m.to == [user.email] and SUBJECT in m.subject]


def test_a_new_browser_signing_in_after_a_reset_is_emailed_and_logged(member, admin_client):
    own = Client()
    sign_in_with_link(own, member.email)  # the member's own browser, once
    attacker = Client(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")
    _reset(attacker, member)  # the mailbox is enough for a reset ...
    mail.outbox.clear()
    sign_in_with_link(attacker, member.email, NEW_PASSWORD)  # ... and for the link
    assert attacker.get(reverse("home")).status_code == HTTPStatus.OK
    notices = _notices(member)
    assert len(notices) == 1
    assert "support@example.com" in notices[0].body and "authenticator app" in notices[0].body
    event = SecurityEvent.objects.get(kind="sign_in_after_reset")
    assert event.user_id == member.pk and event.account_id == member.account_id
    page = admin_client.get(reverse("security:security")).content.decode()
    assert "New browser signed in after a password reset" in page


def test_the_members_own_browser_after_a_reset_is_not_a_notice(member):
    own = Client()
    sign_in_with_link(own, member.email)
    own.post(reverse("accounts:logout"))
    _reset(own, member)
    mail.outbox.clear()
    sign_in_with_link(own, member.email, NEW_PASSWORD)
    assert _notices(member) == []
    assert not SecurityEvent.objects.filter(kind="sign_in_after_reset").exists()


def test_a_new_browser_without_a_reset_is_not_this_notice(member):
    sign_in_with_link(Client(), member.email)
    sign_in_with_link(Client(), member.email)
    assert _notices(member) == []


def test_only_the_first_sign_in_after_the_reset_is_a_notice(member):
    _reset(Client(), member)
    sign_in_with_link(Client(), member.email, NEW_PASSWORD)
    sign_in_with_link(Client(), member.email, NEW_PASSWORD)
    assert len(_notices(member)) == 1
