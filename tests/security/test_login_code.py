"""The code step of signing in: /login/code/ (security.totp.views.login_code)."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.login_flow import PENDING_LOGIN_SESSION_KEY
from accounts.models import User
from security.models import SecurityEvent, TOTPDevice
from security.recovery_codes import services as recovery_code_services
from tests.conftest import is_signed_in, page_text, password_step, recovery_codes_of
from tests.security.conftest import code_for, code_post, recovery_post, switch_to

URL = reverse("accounts:login-code")


def _assert_code_refused(
    response, client, member, *, shows: str = "", reads: str = "", failures: int
) -> None:
    """The code step answered 400 with ``shows`` in its HTML (or ``reads`` in its text), the
    browser is not signed in, and the member's failed-code count is ``failures``."""
    assert response.status_code == HTTPStatus.BAD_REQUEST
    if shows:
        assert shows in response.content.decode()
    if reads:
        assert reads in page_text(response)
    assert not is_signed_in(client)
    member.refresh_from_db()
    assert member.failed_code_count == failures


# --- Renders, and needs the right pending login ----------------------------------------------


def test_login_code_renders_for_one_time_code(code_client):
    response = code_client.get(URL)
    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert 'autocomplete="one-time-code"' in html
    assert 'inputmode="numeric"' in html
    assert "recovery code" in html
    assert response.headers["Cache-Control"].count("no-store") == 1


def test_login_code_says_how_to_get_back_in(code_client, settings):
    settings.SUPPORT_EMAIL = "help@twofactor.example"
    html = code_client.get(URL).content.decode()
    assert "Lost your phone?" in html
    assert "Account Admin" in html
    assert 'href="mailto:help@twofactor.example"' in html


def test_login_code_member_with_app_sent_here_not_emailed(client, member_with_totp):
    response = password_step(client, member_with_totp.email)
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == URL
    assert not mail.outbox
    assert not is_signed_in(client)


@pytest.mark.django_db
def test_login_code_without_pending_login_redirects_to_login(client):
    for response in (client.get(URL), client.post(URL, {"code": "123456"})):
        assert response.status_code == HTTPStatus.FOUND
        assert response.url == reverse("accounts:login")


def test_login_code_email_link_stage_redirected(client, member):
    password_step(client, member.email)
    response = client.post(URL, {"code": "123456"})
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("accounts:login-email-sent")
    assert not is_signed_in(client)


def test_login_code_expired_pending_login_refused(code_client, member_with_totp, clock, settings):
    clock.advance(minutes=settings.TWOFACTOR_PENDING_LOGIN_MINUTES + 1 / 60)
    response = code_post(code_client, code_for(member_with_totp, clock=clock))
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("accounts:login")
    assert not is_signed_in(code_client)
    assert PENDING_LOGIN_SESSION_KEY not in code_client.session
    # The code was not used up by the refused attempt.
    assert TOTPDevice.objects.get(user=member_with_totp).last_used_step < clock.step()


def test_login_code_inactive_member_refused(code_client, member_with_totp, clock):
    User.objects.filter(pk=member_with_totp.pk).update(is_active=False)
    response = code_post(code_client, code_for(member_with_totp, clock=clock))
    assert response.url == reverse("accounts:login")
    assert not is_signed_in(code_client)


# --- The right code, and replays ----------------------------------------------------------


def test_login_code_right_code_signs_in(code_client, member_with_totp, clock):
    response = code_post(code_client, code_for(member_with_totp, clock=clock))
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("home")
    assert code_client.session["_auth_user_id"] == str(member_with_totp.pk)
    assert PENDING_LOGIN_SESSION_KEY not in code_client.session
    assert TOTPDevice.objects.get(user=member_with_totp).last_used_step == clock.step()
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SIGN_IN)
    assert event.user == member_with_totp and event.detail == {"method": "totp"}
    assert code_client.get(reverse("home")).status_code == HTTPStatus.OK


def test_login_code_spaces_in_code_tolerated(code_client, member_with_totp, clock):
    code = code_for(member_with_totp, clock=clock)
    response = code_post(code_client, f" {code[:3]} {code[3:]} ")
    assert response.status_code == HTTPStatus.FOUND
    assert is_signed_in(code_client)


@pytest.mark.parametrize("offset", [-1, 1])
def test_login_code_one_step_of_drift_accepted(code_client, member_with_totp, clock, offset):
    if offset == -1:
        # The fixture's enrollment used the previous step; give the device an older one.
        TOTPDevice.objects.filter(user=member_with_totp).update(last_used_step=clock.step() - 5)
    response = code_post(code_client, code_for(member_with_totp, offset=offset, clock=clock))
    assert response.status_code == HTTPStatus.FOUND
    assert is_signed_in(code_client)


def test_login_code_two_steps_of_drift_refused(code_client, member_with_totp, clock):
    code = code_for(member_with_totp, offset=2, clock=clock)
    if code in {code_for(member_with_totp, offset=d, clock=clock) for d in (-1, 0, 1)}:
        pytest.skip("the code two steps ahead happens to equal one in the window")
    response = code_post(code_client, code)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not is_signed_in(code_client)


def test_login_code_same_code_again_refused(client, member_with_totp, clock):
    code = code_for(member_with_totp, clock=clock)
    password_step(client, member_with_totp.email)
    assert code_post(client, code).status_code == HTTPStatus.FOUND
    client.post(reverse("accounts:logout"))

    other = Client()
    password_step(other, member_with_totp.email)
    response = code_post(other, code)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not is_signed_in(other)
    assert "didn&#x27;t work" in response.content.decode()


def test_login_code_earlier_step_than_last_accepted_refused(client, member_with_totp, clock):
    password_step(client, member_with_totp.email)
    assert code_post(client, code_for(member_with_totp, offset=1, clock=clock)).status_code == 302
    client.post(reverse("accounts:logout"))

    password_step(client, member_with_totp.email)
    response = code_post(client, code_for(member_with_totp, clock=clock))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not is_signed_in(client)


def test_login_code_enrollment_code_cannot_be_replayed(code_client, member_with_totp, clock):
    """The fixture confirmed the app with the previous step's code."""
    response = code_post(code_client, code_for(member_with_totp, offset=-1, clock=clock))
    assert response.status_code == HTTPStatus.BAD_REQUEST


# --- Wrong codes, lockout, rate limit ----------------------------------------------------


def test_login_code_wrong_code_clear_error_counted(code_client, member_with_totp, clock):
    wrong = "000000" if code_for(member_with_totp, clock=clock) != "000000" else "111111"
    response = code_post(code_client, wrong)
    _assert_code_refused(
        response, code_client, member_with_totp, shows="That code didn&#x27;t work", failures=1
    )
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.CODE_FAILED).count() == 1


def test_login_code_right_code_resets_failure_count(code_client, member_with_totp, clock):
    code_post(
        code_client, "000000" if code_for(member_with_totp, clock=clock) != "000000" else "1" * 6
    )
    code_post(code_client, code_for(member_with_totp, clock=clock))
    member_with_totp.refresh_from_db()
    assert member_with_totp.failed_code_count == 0


def _lock_out(client, user, clock, settings):
    wrong = (
        "000000"
        if "000000" not in {code_for(user, offset=d, clock=clock) for d in (-1, 0, 1)}
        else "999999"
    )
    responses = [code_post(client, wrong) for _ in range(settings.TWOFACTOR_MAX_FAILED_CODES)]
    return responses


def test_login_code_locked_after_max_failures(code_client, member_with_totp, clock, settings):
    settings.TWOFACTOR_MAX_FAILED_CODES = 3
    responses = _lock_out(code_client, member_with_totp, clock, settings)
    assert [r.status_code for r in responses[:-1]] == [HTTPStatus.BAD_REQUEST] * 2
    assert responses[-1].status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "Too many failed attempts" in responses[-1].content.decode()
    member_with_totp.refresh_from_db()
    assert member_with_totp.code_locked_until > timezone.now() + timedelta(
        minutes=settings.TWOFACTOR_LOCKOUT_MINUTES - 1
    )
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOCKED_OUT).count() == 1


def test_login_code_locked_refuses_right_code_even_from_a_fresh_browser(
    code_client, member_with_totp, clock, settings
):
    settings.TWOFACTOR_MAX_FAILED_CODES = 3
    _lock_out(code_client, member_with_totp, clock, settings)

    response = code_post(code_client, code_for(member_with_totp, clock=clock))
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert not is_signed_in(code_client)

    fresh = Client()
    password_step(fresh, member_with_totp.email)
    assert fresh.get(URL).status_code == HTTPStatus.TOO_MANY_REQUESTS
    response = code_post(fresh, code_for(member_with_totp, clock=clock))
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "Too many failed attempts" in response.content.decode()
    assert not is_signed_in(fresh)
    # Refused while locked means not used up either.
    assert TOTPDevice.objects.get(user=member_with_totp).last_used_step < clock.step()


def test_login_code_locked_refuses_recovery_code(code_client, member_with_totp, clock, settings):
    settings.TWOFACTOR_MAX_FAILED_CODES = 2
    recovery = recovery_codes_of(member_with_totp)[0]
    _lock_out(code_client, member_with_totp, clock, settings)
    switch_to(code_client, "recovery-code")
    response = recovery_post(code_client, recovery)
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert recovery_code_services.recovery_codes_remaining(user=member_with_totp) == 10


def test_login_code_lockout_expires(code_client, member_with_totp, clock, settings):
    settings.TWOFACTOR_MAX_FAILED_CODES = 2
    _lock_out(code_client, member_with_totp, clock, settings)
    # The lockout's end passes (it is a time in the database: move it, not the clock).
    User.objects.filter(pk=member_with_totp.pk).update(
        code_locked_until=timezone.now() - timedelta(seconds=1)
    )
    response = code_post(code_client, code_for(member_with_totp, clock=clock))
    assert response.status_code == HTTPStatus.FOUND
    assert is_signed_in(code_client)
    member_with_totp.refresh_from_db()
    assert member_with_totp.code_locked_until is None and member_with_totp.failed_code_count == 0


def test_login_code_per_ip_rate_limit(client, member_with_totp, account, clock, settings):
    settings.RATELIMIT_CODE_IP = "3/m"
    settings.TWOFACTOR_MAX_FAILED_CODES = 100
    password_step(client, member_with_totp.email)
    statuses = [code_post(client, "000000").status_code for _ in range(4)]
    assert statuses[-1] == HTTPStatus.TOO_MANY_REQUESTS
    # The limit is per address, not per session: another browser from there is limited too.
    other = Client()
    password_step(other, member_with_totp.email)
    response = code_post(other, code_for(member_with_totp, clock=clock))
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert not is_signed_in(other)


# --- Malformed input -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ["１２３４５６", "1234567", "12345", "12345a", "", "123456\x00", "x" * 65, "abc"]
)
def test_login_code_malformed_code_form_error(code_client, member_with_totp, raw):
    response = code_post(code_client, raw)
    _assert_code_refused(
        response, code_client, member_with_totp, shows='class="field-error"', failures=0
    )


def test_login_code_two_values_for_one_field_form_error(code_client, member_with_totp, clock):
    right = code_for(member_with_totp, clock=clock)
    for values in (["000000", right], [right, right]):
        response = code_client.post(URL, {"code": values})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert 'class="field-error"' in response.content.decode()
        assert not is_signed_in(code_client)


def test_login_code_empty_post_shows_the_form_again(code_client, member_with_totp):
    response = code_client.post(URL, {})
    assert response.status_code in (HTTPStatus.OK, HTTPStatus.BAD_REQUEST)
    assert 'name="code"' in response.content.decode()
    assert not is_signed_in(code_client)
    member_with_totp.refresh_from_db()
    assert member_with_totp.failed_code_count == 0


def test_login_code_other_methods_refused(code_client):
    assert code_client.put(URL).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert code_client.delete(URL).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_login_code_needs_csrf(member_with_totp, clock):
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("accounts:login"))
    token = client.cookies["csrftoken"].value
    client.post(
        reverse("accounts:login"),
        {
            "email": member_with_totp.email,
            "password": "correct horse battery staple",
            "csrfmiddlewaretoken": token,
        },
    )
    response = code_post(client, code_for(member_with_totp, clock=clock))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not is_signed_in(client)


# --- next -----------------------------------------------------------------------------------


def test_login_code_keeps_next_on_this_site(client, member_with_totp, clock):
    password_step(client, member_with_totp.email, next_url="/settings/personal/")
    response = code_post(client, code_for(member_with_totp, clock=clock))
    assert response.url == "/settings/personal/"


@pytest.mark.parametrize(
    "evil", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"]
)
def test_login_code_offsite_next_dropped(client, member_with_totp, clock, evil):
    password_step(client, member_with_totp.email, next_url=evil)
    response = code_post(
        client, code_for(member_with_totp, clock=clock), next="https://evil.example/"
    )
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("home")


# --- Query budget ---------------------------------------------------------------------------


def test_login_code_right_code_at_most_five_queries(
    code_client, member_with_totp, clock, django_assert_max_num_queries
):
    code = code_for(member_with_totp, clock=clock)
    with django_assert_max_num_queries(5):
        response = code_post(code_client, code)
    assert response.status_code == HTTPStatus.FOUND


def test_login_code_right_code_after_a_failure_at_most_five_queries(
    code_client, member_with_totp, clock, django_assert_max_num_queries
):
    code_post(
        code_client, "000000" if code_for(member_with_totp, clock=clock) != "000000" else "1" * 6
    )
    code = code_for(member_with_totp, clock=clock)
    with django_assert_max_num_queries(5):
        response = code_post(code_client, code)
    assert response.status_code == HTTPStatus.FOUND


def test_login_code_page_one_query(code_client, django_assert_max_num_queries):
    """The pending member by primary key, nothing joined: the page shows no factor."""
    with django_assert_max_num_queries(1):
        response = code_client.get(reverse("accounts:login-code"))
    assert response.status_code == HTTPStatus.OK


def test_login_code_wrong_code_bounded_queries(
    code_client, member_with_totp, clock, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        response = code_post(
            code_client,
            "000000" if code_for(member_with_totp, clock=clock) != "000000" else "1" * 6,
        )
    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_login_code_no_code_in_logs_or_emails(client, member_with_totp, clock, caplog):
    caplog.set_level("DEBUG")
    recovery = recovery_codes_of(member_with_totp)[0]
    totp_code = code_for(member_with_totp, clock=clock)
    password_step(client, member_with_totp.email)
    code_post(client, "000000" if totp_code != "000000" else "111111")
    switch_to(client, "recovery-code")
    recovery_post(client, recovery)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    emails = "\n".join(m.body + str(m.alternatives) for m in mail.outbox)
    for secret in (recovery, recovery.replace("-", ""), member_with_totp.totp_secret):
        assert secret not in logged
        assert secret not in emails


def test_login_code_failures_add_up_across_lockouts(code_client, member_with_totp, clock, settings):
    """A lockout pauses the count, it does not forgive it: only a sign-in starts it again."""
    settings.TWOFACTOR_MAX_FAILED_CODES = 2
    _lock_out(code_client, member_with_totp, clock, settings)
    User.objects.filter(pk=member_with_totp.pk).update(
        code_locked_until=timezone.now() - timedelta(seconds=1)
    )
    wrong = "000000" if code_for(member_with_totp, clock=clock) != "000000" else "999999"
    response = code_post(code_client, wrong)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    member_with_totp.refresh_from_db()
    assert member_with_totp.failed_code_count == 3


def test_login_code_locked_for_good_at_the_consecutive_cap(
    code_client, member_with_totp, clock, settings
):
    settings.TWOFACTOR_MAX_FAILED_CODES = 2
    settings.TWOFACTOR_MAX_CONSECUTIVE_FAILED_CODES = 4
    for _ in range(2):
        _lock_out(code_client, member_with_totp, clock, settings)
        User.objects.filter(pk=member_with_totp.pk).update(
            code_locked_until=timezone.now() - timedelta(seconds=1)
        )
    member_with_totp.refresh_from_db()
    assert member_with_totp.failed_code_count == 4
    # The timed lockout is over, yet the right code is refused: only an admin can help now.
    response = code_post(code_client, code_for(member_with_totp, clock=clock))
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "removes and re-adds you" in response.content.decode()
    assert not is_signed_in(code_client)
    event = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.LOCKED_OUT).latest("id")
    assert event.detail == {"consecutive_failures": 4, "for_good": True}


def test_consecutive_cap_setting_within_nist_limit():
    from django.conf import settings as django_settings

    assert (
        django_settings.TWOFACTOR_MAX_FAILED_CODES
        < django_settings.TWOFACTOR_MAX_CONSECUTIVE_FAILED_CODES
        <= 100
    )


# --- What the page says: the lock, the tries left, the other ways in ----------------------


def _wrong(user, clock) -> str:
    return "000000" if code_for(user, clock=clock) != "000000" else "999999"


def test_login_code_locked_page_says_what_until_when_and_what_to_do(
    code_client, member_with_totp, clock, settings
):
    settings.TWOFACTOR_MAX_FAILED_CODES = 3
    settings.SUPPORT_EMAIL = "help@twofactor.example"
    _lock_out(code_client, member_with_totp, clock, settings)
    member_with_totp.refresh_from_db()
    until = member_with_totp.code_locked_until.strftime("%H:%M")
    text = page_text(code_client.get(URL))
    assert (
        "signing in with a code from your authenticator app or a recovery code is locked "
        f"until {until} UTC, even with the right one." in text
    )
    assert f"Try again in {settings.TWOFACTOR_LOCKOUT_MINUTES} minutes." in text
    assert "What you can do now" in text
    assert f"sign in again from the start after {until} UTC" in text
    assert "Ask an Account Admin of your team to remove and re-add you" in text
    assert 'href="mailto:help@twofactor.example"' in code_client.get(URL).content.decode()
    # Nothing offers a field or a way that the lock refuses too.
    assert "recovery codes above" not in text
    assert 'name="code"' not in text
    assert "Use a recovery code instead" not in text


def test_login_code_locked_page_counts_down_in_minutes(
    code_client, member_with_totp, clock, settings
):
    settings.TWOFACTOR_MAX_FAILED_CODES = 2
    _lock_out(code_client, member_with_totp, clock, settings)
    User.objects.filter(pk=member_with_totp.pk).update(
        code_locked_until=timezone.now() + timedelta(minutes=13, seconds=10)
    )
    assert "Try again in 14 minutes." in page_text(code_client.get(URL))


def test_login_code_locked_for_good_names_no_time(code_client, member_with_totp, account_admin):
    User.objects.filter(pk=member_with_totp.pk).update(failed_code_count=100)
    text = page_text(code_client.get(URL))
    assert "is locked until an Account Admin of your team removes and re-adds you" in text
    assert "Try again in" not in text and "sign in again from the start" not in text


def test_login_code_locked_admin_is_told_to_ask_another_admin(client, account_admin, clock):
    from tests.conftest import enroll_totp

    enroll_totp(account_admin)
    User.objects.filter(pk=account_admin.pk).update(failed_code_count=100)
    password_step(client, account_admin.email)
    text = page_text(client.get(URL))
    assert "Ask another Account Admin of your team" in text


def test_login_code_warns_from_the_seventh_wrong_code(
    code_client, member_with_totp, clock, settings
):
    assert settings.TWOFACTOR_MAX_FAILED_CODES == 10
    wrong = _wrong(member_with_totp, clock)
    texts = [page_text(code_post(code_client, wrong)) for _ in range(9)]
    for text in texts[:6]:
        assert "left before sign-in locks" not in text
    assert "3 tries left before sign-in locks for 15 minutes." in texts[6]
    assert "2 tries left before sign-in locks for 15 minutes." in texts[7]
    assert "1 try left before sign-in locks for 15 minutes." in texts[8]
    # A fresh visit of the page says it too: it is the member's count, not this browser's.
    fresh = Client()
    password_step(fresh, member_with_totp.email)
    assert "1 try left before sign-in locks" in page_text(fresh.get(URL))


def test_login_code_warns_before_the_lock_for_good(code_client, member_with_totp, clock, settings):
    User.objects.filter(pk=member_with_totp.pk).update(failed_code_count=97)
    text = page_text(code_client.get(URL))
    assert "3 tries left before sign-in locks until an Account Admin" in text


def test_login_code_recovery_code_in_the_app_field_points_to_its_page(
    code_client, member_with_totp
):
    code = recovery_codes_of(member_with_totp)[0]
    response = code_post(code_client, code)
    _assert_code_refused(
        response,
        code_client,
        member_with_totp,
        reads="That looks like a recovery code.",
        failures=0,
    )
    assert recovery_code_services.recovery_codes_remaining(user=member_with_totp) == 10


def test_login_code_offers_a_recovery_code_and_a_passkey(client, member_with_totp):
    from tests.passkeys.conftest import add_passkey

    password_step(client, member_with_totp.email)
    text = page_text(client.get(URL))
    assert "Use a recovery code instead" in text
    assert "Use a passkey or security key instead" not in text  # they have none
    add_passkey(member_with_totp)
    client = Client()
    password_step(client, member_with_totp.email)
    switch_to(client, "code")
    text = page_text(client.get(URL))
    assert "Use a recovery code instead" in text
    assert "Use a passkey or security key instead" in text


def test_login_code_without_recovery_codes_offers_none(code_client, member_with_totp):
    from security.models import RecoveryCode

    RecoveryCode.objects.filter(user=member_with_totp).update(used_at=timezone.now())
    assert "Use a recovery code instead" not in page_text(code_client.get(URL))
    response = switch_to(code_client, "recovery-code")
    assert response.url == URL
