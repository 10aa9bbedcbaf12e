"""Every security-relevant action leaves a SecurityEvent (who, whom, when in UTC, IP, browser,
never a secret) and the emails a member must get."""

from __future__ import annotations

import datetime
import json
from http import HTTPStatus

from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User
from accounts.tokens import password_reset_tokens
from security.models import SecurityEvent
from security.recovery_codes import codes as recovery_codes
from security.recovery_codes import services as recovery_code_services
from security.totp import services as totp_services
from tests.conftest import PASSWORD, current_code, link_from_outbox, path_of, recovery_code_post

Kind = SecurityEvent.Kind
IP = "198.51.100.7"
AGENT = "Mozilla/5.0 (X11; Linux x86_64) HardeningTest/1.0 Firefox/128.0"
NEW_PASSWORD = "a brand new passphrase 99"


def browser_at(ip: str = IP) -> Client:
    return Client(REMOTE_ADDR=ip, HTTP_USER_AGENT=AGENT)


def sign_in(client: Client, user, *, code: str | None = None):
    client.post(reverse("accounts:login"), {"email": user.email, "password": PASSWORD})
    if code is None:
        client.get(path_of(link_from_outbox()))
        return client.post(reverse("accounts:login-link"))
    if recovery_codes.normalize(code) is not None:
        return recovery_code_post(client, code)
    return client.post(reverse("accounts:login-code"), {"code": code})


def the_event(kind: str, **filters) -> SecurityEvent:
    events = list(SecurityEvent.objects.filter(kind=kind, **filters))
    assert len(events) == 1, (kind, [(e.kind, e.user_email) for e in SecurityEvent.objects.all()])
    return events[0]


def assert_recorded(
    event: SecurityEvent, *, user, actor=None, ip: str = IP, secrets: tuple[str, ...] = ()
) -> None:
    assert event.user_id == (user.pk if user else None)
    if user is not None:
        assert event.user_email == user.email
    assert event.actor_id == (actor.pk if actor else None)
    assert event.created_at.utcoffset() == datetime.timedelta(0)
    assert abs(event.created_at - datetime.datetime.now(datetime.UTC)) < datetime.timedelta(
        minutes=5
    )
    assert event.ip == ip
    assert event.user_agent == AGENT
    detail = json.dumps(event.detail)
    for secret in (PASSWORD, NEW_PASSWORD, *secrets):
        assert secret.lower() not in detail.lower()


def test_sign_in_with_link_records_method(member):
    client = browser_at()
    sign_in(client, member)
    event = the_event(Kind.SIGN_IN)
    assert_recorded(event, user=member, actor=member)
    assert event.detail == {"method": "email_link"}


def test_sign_in_with_code_records_method(member_with_totp):
    code = current_code(member_with_totp.totp_secret)
    sign_in(browser_at(), member_with_totp, code=code)
    event = the_event(Kind.SIGN_IN)
    assert_recorded(event, user=member_with_totp, actor=member_with_totp, secrets=(code,))
    assert event.detail == {"method": "totp"}


def test_failed_password_is_recorded(member):
    response = browser_at().post(
        reverse("accounts:login"), {"email": member.email, "password": "wrong password 1"}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert_recorded(the_event(Kind.PASSWORD_FAILED), user=member, secrets=("wrong password 1",))


def test_failed_code_and_lockout_are_recorded(settings, member_with_totp):
    settings.TWOFACTOR_MAX_FAILED_CODES = 2
    client = browser_at()
    client.post(reverse("accounts:login"), {"email": member_with_totp.email, "password": PASSWORD})
    for wrong in ("000000", "999999"):
        client.post(reverse("accounts:login-code"), {"code": wrong})
    failures = SecurityEvent.objects.filter(kind=Kind.CODE_FAILED)
    assert failures.count() == 2
    for event in failures:
        assert_recorded(event, user=member_with_totp, secrets=("000000", "999999"))
    assert_recorded(the_event(Kind.LOCKED_OUT), user=member_with_totp)


def test_link_opened_in_another_browser_is_recorded(member):
    browser_at().post(reverse("accounts:login"), {"email": member.email, "password": PASSWORD})
    link = path_of(link_from_outbox())
    token = link.rstrip("/").rsplit("/", 1)[-1]
    other = browser_at("192.0.2.44")
    other.get(link, follow=True)
    assert_recorded(
        the_event(Kind.LINK_OTHER_BROWSER), user=member, ip="192.0.2.44", secrets=(token,)
    )
    assert not SecurityEvent.objects.filter(kind=Kind.SIGN_IN).exists()


def test_recovery_code_use_is_recorded_and_emailed_with_count(member_with_totp):
    code = recovery_code_services.recovery_codes_list(user=member_with_totp)[0][0]
    sign_in(browser_at(), member_with_totp, code=code)
    event = the_event(Kind.RECOVERY_CODE_USED)
    assert_recorded(event, user=member_with_totp, secrets=(code, code.replace("-", "")))
    assert event.detail == {"remaining": 9}
    assert the_event(Kind.SIGN_IN).detail == {"method": "recovery_code"}
    [message] = [m for m in mail.outbox if m.to == [member_with_totp.email]]
    assert "9" in message.body
    assert code not in message.body


def _signed_in_with_app(user) -> Client:
    client = browser_at()
    sign_in(client, user, code=current_code(user.totp_secret))
    mail.outbox.clear()
    return client


def test_codes_regenerated_recorded_and_emailed(member_with_totp):
    client = _signed_in_with_app(member_with_totp)
    client.post(reverse("security:recovery-codes-regenerate"))
    new_codes = [c for c, _ in recovery_code_services.recovery_codes_list(user=member_with_totp)]
    assert_recorded(
        the_event(Kind.RECOVERY_CODES_REGENERATED),
        user=member_with_totp,
        actor=member_with_totp,
        secrets=tuple(new_codes),
    )
    [message] = mail.outbox
    assert message.to == [member_with_totp.email]
    assert not any(code in message.body for code in new_codes)


def test_app_added_recorded_and_emailed(member):
    client = browser_at()
    sign_in(client, member)
    mail.outbox.clear()
    client.post(reverse("security:enroll"))
    secret = totp_services.device_secret(totp_services.enrollment_device(user=member))
    code = current_code(secret)
    client.post(reverse("security:enroll-app"), {"code": code})
    assert_recorded(the_event(Kind.TOTP_ADDED), user=member, actor=member, secrets=(secret, code))
    [message] = mail.outbox
    assert message.to == [member.email]
    assert secret not in message.body


def test_app_removed_recorded_and_emailed(member_with_totp):
    client = _signed_in_with_app(member_with_totp)
    client.post(reverse("security:totp-remove"))
    assert_recorded(the_event(Kind.TOTP_REMOVED), user=member_with_totp, actor=member_with_totp)
    [message] = mail.outbox
    assert message.to == [member_with_totp.email]


def test_requirement_on_and_off_recorded_and_team_emailed(account_admin, member, sso_member):
    account_admin.totp_secret = security_services_enroll(account_admin)
    client = _signed_in_with_app(account_admin)
    client.post(reverse("security:security"), {"require": "on"})
    assert_recorded(the_event(Kind.REQUIREMENT_ON), user=account_admin, actor=account_admin)
    recipients = sorted(m.to[0] for m in mail.outbox)
    # Only the members it affects: not the admin who did it, not the SSO member.
    assert recipients == [member.email]
    client.post(reverse("security:security"), {"require": "off"})
    assert_recorded(the_event(Kind.REQUIREMENT_OFF), user=account_admin, actor=account_admin)


def security_services_enroll(user) -> str:
    from tests.conftest import enroll_totp

    return enroll_totp(user)


def test_member_added_removed_and_readded_recorded(account_admin):
    client = browser_at()
    sign_in(client, account_admin)
    client.post(reverse("accounts:member-add"), {"email": "new@acme.test", "name": "New"})
    added = User.objects.get(email="new@acme.test")
    assert_recorded(the_event(Kind.MEMBER_ADDED), user=added, actor=account_admin)
    client.post(reverse("accounts:member-remove", args=[added.pk]))
    removed = the_event(Kind.MEMBER_REMOVED)
    assert removed.user_email == "new@acme.test"
    assert removed.actor_id == account_admin.pk
    assert removed.ip == IP and removed.user_agent == AGENT
    client.post(reverse("accounts:member-add"), {"email": "new@acme.test", "name": "New"})
    again = User.objects.get(email="new@acme.test")
    assert_recorded(the_event(Kind.MEMBER_READDED), user=again, actor=account_admin)


def test_password_reset_recorded(member):
    client = browser_at()
    uid = urlsafe_base64_encode(force_bytes(member.pk))
    token = password_reset_tokens.make_token(member)
    form = client.get(reverse("accounts:password-reset-confirm", args=[uid, token]))
    client.post(form.url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert_recorded(the_event(Kind.PASSWORD_RESET), user=member, actor=member, secrets=(token,))
