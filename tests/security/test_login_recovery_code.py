"""The recovery-code step of signing in: /login/code/recovery/
(security.recovery_codes.views.login_recovery_code), reached by "Use a recovery code instead"."""

import re
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.login_flow import PENDING_LOGIN_SESSION_KEY
from accounts.models import User
from security.models import RecoveryCode, SecurityEvent
from security.recovery_codes import services as recovery_code_services
from tests.conftest import is_signed_in, page_text, password_step, recovery_codes_of
from tests.security.conftest import code_for, code_post, recovery_post, switch_to

URL = reverse("accounts:login-recovery-code")
CODE_URL = reverse("accounts:login-code")


# --- Renders, and needs the right pending login ----------------------------------------------


def test_recovery_code_page_has_its_own_text_field(recovery_client):
    response = recovery_client.get(URL)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    field = re.search(r'<input[^>]*name="recovery_code"[^>]*>', html).group(0)
    assert "inputmode" not in field  # a text keyboard on a phone: codes have letters
    assert 'autocomplete="one-time-code"' not in field
    assert 'autocapitalize="off"' in field and 'spellcheck="false"' in field
    assert '<label for="id_recovery_code">Recovery code</label>' in html
    assert "Use your authenticator app instead" in page_text(response)
    assert response.headers["Cache-Control"].count("no-store") == 1


def test_recovery_code_page_needs_the_switch_first(code_client):
    response = code_client.get(URL)
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == CODE_URL


@pytest.mark.django_db
def test_recovery_code_page_without_pending_login_redirects_to_login(client):
    for response in (client.get(URL), client.post(URL, {"recovery_code": "abcde-fghjk"})):
        assert response.url == reverse("accounts:login")


def test_recovery_code_not_offered_to_an_email_link_member(client, member):
    password_step(client, member.email)
    response = switch_to(client, "recovery-code")
    assert response.url == reverse("accounts:login-email-sent")


def test_recovery_code_expired_pending_login_refused(
    recovery_client, member_with_totp, clock, settings
):
    clock.advance(minutes=settings.TWOFACTOR_PENDING_LOGIN_MINUTES + 1 / 60)
    response = recovery_post(recovery_client, recovery_codes_of(member_with_totp)[0])
    assert response.url == reverse("accounts:login")
    assert PENDING_LOGIN_SESSION_KEY not in recovery_client.session
    assert recovery_code_services.recovery_codes_remaining(user=member_with_totp) == 10


def test_recovery_code_back_to_the_app(recovery_client, member_with_totp, clock):
    response = switch_to(recovery_client, "code")
    assert response.url == CODE_URL
    assert code_post(recovery_client, code_for(member_with_totp, clock=clock)).status_code == 302
    assert is_signed_in(recovery_client)


# --- The right code once, wrong and used codes ------------------------------------------------


def test_recovery_code_signs_in_once(client, member_with_totp):
    code = recovery_codes_of(member_with_totp)[3]
    password_step(client, member_with_totp.email)
    switch_to(client, "recovery-code")
    response = recovery_post(client, code)
    assert response.status_code == HTTPStatus.FOUND
    assert recovery_code_services.recovery_codes_remaining(user=member_with_totp) == 9
    assert mail.outbox[-1].to == [member_with_totp.email]
    assert "recovery code was used" in mail.outbox[-1].subject
    assert "9 codes left" in mail.outbox[-1].body
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.RECOVERY_CODE_USED)
    assert event.user == member_with_totp and code not in str(event.detail)
    sign_in = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SIGN_IN)
    assert sign_in.detail == {"method": "recovery_code"}
    messages = client.get(reverse("home")).content.decode()
    assert "You have 9 recovery codes left" in messages
    assert is_signed_in(client)

    client.post(reverse("accounts:logout"))
    password_step(client, member_with_totp.email)
    switch_to(client, "recovery-code")
    response = recovery_post(client, code)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "That recovery code was already used." in page_text(response)
    assert not is_signed_in(client)
    assert recovery_code_services.recovery_codes_remaining(user=member_with_totp) == 9
    member_with_totp.refresh_from_db()
    assert member_with_totp.failed_code_count == 1  # a used code counts like a wrong one


def test_recovery_code_wrong_code_not_recognised_and_counted(recovery_client, member_with_totp):
    response = recovery_post(recovery_client, "zzzzz-zzzzz")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    text = page_text(response)
    assert "That isn't one of your recovery codes." in text
    assert "already used" not in text
    member_with_totp.refresh_from_db()
    assert member_with_totp.failed_code_count == 1
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.CODE_FAILED).count() == 1


def test_recovery_code_of_another_member_is_not_recognised(recovery_client, account_admin):
    from tests.conftest import enroll_totp

    enroll_totp(account_admin)
    response = recovery_post(recovery_client, recovery_codes_of(account_admin)[0])
    assert "That isn't one of your recovery codes." in page_text(response)
    assert recovery_code_services.recovery_codes_remaining(user=account_admin) == 10


@pytest.mark.parametrize(
    "typed",
    [
        lambda c: c.upper(),
        lambda c: c.replace("-", ""),
        lambda c: " " + c.replace("-", " ") + " ",
        lambda c: "-".join(c.replace("-", "")),
    ],
)
def test_recovery_code_tolerates_spaces_dashes_case(recovery_client, member_with_totp, typed):
    response = recovery_post(recovery_client, typed(recovery_codes_of(member_with_totp)[0]))
    assert response.status_code == HTTPStatus.FOUND
    assert is_signed_in(recovery_client)


def test_recovery_code_low_count_warned(recovery_client, member_with_totp, settings):
    codes = recovery_codes_of(member_with_totp)
    used = len(codes) - settings.TWOFACTOR_RECOVERY_CODES_LOW
    ids = (
        RecoveryCode.objects.filter(user=member_with_totp)
        .order_by("id")
        .values_list("id", flat=True)[:used]
    )
    RecoveryCode.objects.filter(id__in=list(ids)).update(used_at=timezone.now())
    response = recovery_post(recovery_client, codes[-1])
    assert response.status_code == HTTPStatus.FOUND
    html = recovery_client.get(reverse("home")).content.decode()
    remaining = settings.TWOFACTOR_RECOVERY_CODES_LOW - 1
    assert f"You have {remaining} recovery codes left" in html
    assert "message-warning" in html
    assert "Generate new ones" in html


def test_recovery_code_inactive_codes_refused(recovery_client, member_with_totp):
    """Codes of an unfinished re-enrollment are not usable."""
    codes = recovery_codes_of(member_with_totp)
    RecoveryCode.objects.filter(user=member_with_totp).update(active=False)
    response = recovery_post(recovery_client, codes[0])
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not is_signed_in(recovery_client)


# --- Malformed input -------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["", "abc", "123456", "abcde-fghj", "x" * 65, "abcde\x00fghjk"])
def test_recovery_code_malformed_is_a_form_error_not_a_try(recovery_client, member_with_totp, raw):
    response = recovery_post(recovery_client, raw)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert 'class="field-error"' in response.content.decode()
    member_with_totp.refresh_from_db()
    assert member_with_totp.failed_code_count == 0


def test_recovery_code_two_values_for_one_field_form_error(recovery_client, member_with_totp):
    code = recovery_codes_of(member_with_totp)[0]
    response = recovery_client.post(URL, {"recovery_code": [code, code]})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not is_signed_in(recovery_client)
    assert recovery_code_services.recovery_codes_remaining(user=member_with_totp) == 10


def test_recovery_code_needs_csrf(member_with_totp):
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("accounts:login"))
    token = client.cookies["csrftoken"].value
    password = {"email": member_with_totp.email, "password": "correct horse battery staple"}
    client.post(reverse("accounts:login"), {**password, "csrfmiddlewaretoken": token})
    client.post(
        reverse("accounts:login-switch"), {"step": "recovery-code", "csrfmiddlewaretoken": token}
    )
    response = recovery_post(client, recovery_codes_of(member_with_totp)[0])
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert recovery_code_services.recovery_codes_remaining(user=member_with_totp) == 10


# --- The same lock and limit as codes from the app ---------------------------------------------


def test_recovery_code_wrong_codes_lock_the_app_too(
    recovery_client, member_with_totp, clock, settings
):
    settings.TWOFACTOR_MAX_FAILED_CODES = 3
    responses = [recovery_post(recovery_client, "zzzzz-zzzzz") for _ in range(3)]
    assert [r.status_code for r in responses] == [400, 400, 429]
    text = page_text(responses[-1])
    assert "Sign-in is locked for now" in text
    assert "a code from your authenticator app or a recovery code is locked until" in text
    assert 'name="recovery_code"' not in text
    # The right code from the app is refused, and so is a right recovery code.
    switch_to(recovery_client, "code")
    assert code_post(recovery_client, code_for(member_with_totp, clock=clock)).status_code == 429
    switch_to(recovery_client, "recovery-code")
    response = recovery_post(recovery_client, recovery_codes_of(member_with_totp)[0])
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert not is_signed_in(recovery_client)
    assert recovery_code_services.recovery_codes_remaining(user=member_with_totp) == 10


def test_recovery_code_warns_before_the_lock(recovery_client, member_with_totp):
    User.objects.filter(pk=member_with_totp.pk).update(failed_code_count=6)
    response = recovery_post(recovery_client, "zzzzz-zzzzz")
    assert "3 tries left before sign-in locks for 15 minutes." in page_text(response)


def test_recovery_code_app_failures_count_here(code_client, member_with_totp, clock, settings):
    settings.TWOFACTOR_MAX_FAILED_CODES = 2
    wrong = "000000" if code_for(member_with_totp, clock=clock) != "000000" else "999999"
    code_post(code_client, wrong)
    switch_to(code_client, "recovery-code")
    assert recovery_post(code_client, "zzzzz-zzzzz").status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_recovery_code_shares_the_per_address_limit_of_codes(client, member_with_totp, settings):
    settings.RATELIMIT_CODE_IP = "3/h"  # a window no test run crosses
    settings.TWOFACTOR_MAX_FAILED_CODES = 100
    password_step(client, member_with_totp.email)
    for _ in range(2):
        code_post(client, "000000")
    switch_to(client, "recovery-code")
    assert recovery_post(client, "zzzzz-zzzzz").status_code == HTTPStatus.BAD_REQUEST
    response = recovery_post(client, recovery_codes_of(member_with_totp)[0])
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "Too many codes were tried from your network." in page_text(response)
    assert not is_signed_in(client)
    assert recovery_code_services.recovery_codes_remaining(user=member_with_totp) == 10


def test_recovery_code_lockout_expires(recovery_client, member_with_totp, settings):
    settings.TWOFACTOR_MAX_FAILED_CODES = 2
    for _ in range(2):
        recovery_post(recovery_client, "zzzzz-zzzzz")
    User.objects.filter(pk=member_with_totp.pk).update(
        code_locked_until=timezone.now() - timedelta(seconds=1)
    )
    response = recovery_post(recovery_client, recovery_codes_of(member_with_totp)[0])
    assert response.status_code == HTTPStatus.FOUND


# --- A member whose only factor is a passkey ----------------------------------------------------


def test_recovery_code_for_a_member_with_only_a_passkey(client, member):
    from tests.passkeys.conftest import add_passkey

    add_passkey(member)
    codes = recovery_codes_of(member)
    password_step(client, member.email)
    page = page_text(client.get(reverse("accounts:login-passkey")))
    assert "Use a recovery code instead" in page
    assert "Use your authenticator app instead" not in page
    assert switch_to(client, "recovery-code").url == URL
    text = page_text(client.get(URL))
    assert "Use a passkey or security key instead" in text
    assert "Use your authenticator app instead" not in text
    assert recovery_post(client, codes[0]).status_code == HTTPStatus.FOUND
    assert is_signed_in(client)


# --- next, queries, logs ----------------------------------------------------------------------


@pytest.mark.parametrize("evil", ["https://evil.example/", "//evil.example/"])
def test_recovery_code_keeps_next_on_this_site(client, member_with_totp, evil):
    codes = recovery_codes_of(member_with_totp)
    password_step(client, member_with_totp.email, next_url="/settings/personal/")
    switch_to(client, "recovery-code")
    assert recovery_post(client, codes[0], next=evil).url == "/settings/personal/"
    client.post(reverse("accounts:logout"))
    password_step(client, member_with_totp.email, next_url=evil)
    switch_to(client, "recovery-code")
    assert recovery_post(client, codes[1]).url == reverse("home")


def test_recovery_code_page_one_query(recovery_client, django_assert_max_num_queries):
    """The pending member with their unused codes counted and their ways in, in one query."""
    with django_assert_max_num_queries(1):
        response = recovery_client.get(URL)
    assert response.status_code == HTTPStatus.OK


def test_recovery_code_query_budget(
    recovery_client, member_with_totp, mail_queue, django_assert_max_num_queries
):
    """The pending member (with the count of unused codes), the attempt's reservation; in one
    transaction (a savepoint and its release here) the code's conditional UPDATE and its
    email and task; last_login; the sign-in's events in one INSERT. The worker renders and
    sends the email."""
    code = recovery_codes_of(member_with_totp)[0]
    with django_assert_max_num_queries(9):
        response = recovery_post(recovery_client, code)
    assert response.status_code == HTTPStatus.FOUND


def test_recovery_code_no_code_in_logs(recovery_client, member_with_totp, caplog):
    caplog.set_level("DEBUG")
    code = recovery_codes_of(member_with_totp)[0]
    recovery_post(recovery_client, "zzzzz-zzzzz")
    recovery_post(recovery_client, code)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    emails = "\n".join(m.body + str(m.alternatives) for m in mail.outbox)
    for secret in (code, code.replace("-", ""), "zzzzzzzzzz"):
        assert secret not in logged and secret not in emails
