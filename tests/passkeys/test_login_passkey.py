"""The passkey step of a sign-in: asked first after the password; single-use challenges bound
to the pending login; the member's own keys only; the counter; the lockout of codes."""

from __future__ import annotations

from http import HTTPStatus

from django.test import Client
from django.urls import reverse

from security.models import SecurityEvent
from security.passkeys import services
from security.passkeys.models import Passkey
from tests.conftest import is_signed_in, page_text, password_step, pending_nonce
from tests.passkeys.authenticator import SoftKey
from tests.passkeys.conftest import answer_post, step_options

Kind = SecurityEvent.Kind


def test_member_with_a_passkey_is_asked_for_it_after_the_password(passkey_client, member_with_passkey):
    response = passkey_client.get(reverse("accounts:login-passkey"))
    assert response.status_code == HTTPStatus.OK
    html = page_text(response)
    assert "Use your passkey" in html
    assert "js/passkeys.js" in html
    assert "<noscript>" in html  # what the page says without JavaScript
    options = step_options(passkey_client)
    assert options["rpId"] == "twofactor.example"
    assert [c["id"] for c in options["allowCredentials"]] == [member_with_passkey.passkey.id]


def test_right_answer_signs_in_and_records_the_use(passkey_client, member_with_passkey):
    key = member_with_passkey.passkey
    response = answer_post(passkey_client, key.assert_(step_options(passkey_client)))
    assert response.status_code == HTTPStatus.FOUND
    assert is_signed_in(passkey_client)
    passkey = Passkey.objects.get(user=member_with_passkey)
    assert passkey.sign_count == key.counter and passkey.last_used_at is not None
    sign_in = SecurityEvent.objects.get(kind=Kind.SIGN_IN, user=member_with_passkey)
    assert sign_in.detail["method"] == "passkey"


def test_a_replayed_answer_is_refused(passkey_client, member_with_passkey):
    answer = member_with_passkey.passkey.assert_(step_options(passkey_client))
    assert answer_post(passkey_client, answer).status_code == HTTPStatus.FOUND
    passkey_client.post(reverse("accounts:logout"))
    password_step(passkey_client, member_with_passkey.email)
    step_options(passkey_client)  # a new challenge is out; the old one was used
    response = answer_post(passkey_client, answer)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "took too long, or the page was used twice" in page_text(response)
    assert not is_signed_in(passkey_client)


def test_a_challenge_is_bound_to_the_pending_login_that_got_it(passkey_client, member_with_passkey):
    answer = member_with_passkey.passkey.assert_(step_options(passkey_client))
    other = Client()
    password_step(other, member_with_passkey.email)  # the same member, another browser
    response = answer_post(other, answer)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not is_signed_in(other)


def test_an_expired_challenge_is_refused(passkey_client, member_with_passkey, clock):
    answer = member_with_passkey.passkey.assert_(step_options(passkey_client))
    clock.advance(minutes=services.CHALLENGE_SECONDS / 60 + 1)
    response = answer_post(passkey_client, answer)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "took too long" in page_text(response)


def test_an_answer_from_another_origin_is_refused_and_counted(passkey_client, member_with_passkey):
    answer = member_with_passkey.passkey.assert_(step_options(passkey_client), origin="https://evil.example")
    response = answer_post(passkey_client, answer)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "couldn't be verified" in page_text(response)
    member_with_passkey.refresh_from_db()
    assert member_with_passkey.failed_code_count == 1
    assert SecurityEvent.objects.filter(kind=Kind.CODE_FAILED, user=member_with_passkey).exists()


def test_an_answer_for_another_rp_id_is_refused(passkey_client, member_with_passkey):
    answer = member_with_passkey.passkey.assert_(step_options(passkey_client), rp_id="evil.example")
    assert answer_post(passkey_client, answer).status_code == HTTPStatus.BAD_REQUEST
    assert not is_signed_in(passkey_client)


def test_a_key_we_do_not_know_is_refused_clearly(passkey_client, settings):
    stranger = SoftKey(origin=settings.SITE_URL, counter=1)
    response = answer_post(passkey_client, stranger.assert_(step_options(passkey_client)))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "isn't registered to your account" in page_text(response)


def test_a_counter_that_goes_backwards_is_refused_and_logged(passkey_client, member_with_passkey):
    key = member_with_passkey.passkey
    assert answer_post(passkey_client, key.assert_(step_options(passkey_client))).status_code == 302
    passkey_client.post(reverse("accounts:logout"))
    password_step(passkey_client, member_with_passkey.email)
    clone = key.assert_(step_options(passkey_client), count=1)  # behind the real key's count
    response = answer_post(passkey_client, clone)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "a copy of your key" in page_text(response)
    event = SecurityEvent.objects.get(kind=Kind.PASSKEY_COUNTER_WENT_BACK)
    assert event.user == member_with_passkey
    assert (event.detail["stored_count"], event.detail["received_count"]) == (key.counter, 1)
    assert not is_signed_in(passkey_client)


def test_a_key_without_a_counter_signs_in_every_time(client, member, settings):
    from tests.passkeys.conftest import add_passkey

    key = add_passkey(member, key=SoftKey(origin=settings.SITE_URL, counter=0))
    for _ in range(2):
        password_step(client, member.email)
        assert answer_post(client, key.assert_(step_options(client))).status_code == 302
        client.post(reverse("accounts:logout"))


def test_a_browser_that_gave_no_answer_gets_a_clear_page_and_no_attempt_is_counted(
    passkey_client, member_with_passkey
):
    for error, text in [
        ("NotAllowedError", "cancelled, or it timed out"),
        ("unsupported", "doesn't support passkeys"),
        ("Weird", "couldn't use a passkey"),
    ]:
        response = answer_post(passkey_client, error=error)
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert text in page_text(response)
    member_with_passkey.refresh_from_db()
    assert member_with_passkey.failed_code_count == 0


def test_malformed_answers_get_a_400_never_a_500(passkey_client):
    for answer in ["{", '{"response": {}}', "[1]", "x" * 20_000]:
        assert answer_post(passkey_client, answer).status_code == HTTPStatus.BAD_REQUEST
    assert answer_post(passkey_client).status_code == HTTPStatus.BAD_REQUEST  # nothing at all


def test_wrong_answers_lock_the_step_like_wrong_codes(passkey_client, member_with_passkey, settings):
    key = member_with_passkey.passkey
    for _ in range(settings.TWOFACTOR_MAX_FAILED_CODES):
        wrong = key.assert_(step_options(passkey_client), origin="https://evil.example")
        answer_post(passkey_client, wrong)
    response = passkey_client.get(reverse("accounts:login-passkey"))
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert "locked" in page_text(response)
    assert 'id="passkey-options"' not in page_text(response)  # no challenge while locked
    # Even the right key is refused while locked (a challenge issued before the lock).
    member_with_passkey.refresh_from_db()
    member_with_passkey.code_locked_until = None
    options = services.passkey_sign_in_begin(
        member=services.passkey_step_load(member_with_passkey.pk, None),
        binding=services.binding_of(pending_nonce(passkey_client)),
    )
    response = answer_post(passkey_client, key.assert_(options))
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert not is_signed_in(passkey_client)


def test_a_removed_key_is_refused(passkey_client, member_with_passkey):
    answer = member_with_passkey.passkey.assert_(step_options(passkey_client))
    Passkey.objects.filter(user=member_with_passkey).delete()
    response = answer_post(passkey_client, answer)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not is_signed_in(passkey_client)


def test_the_step_needs_a_pending_login(client):
    response = client.get(reverse("accounts:login-passkey"))
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("accounts:login")


def test_member_with_the_app_too_may_use_it_instead(client, member_with_totp, clock):
    from security.totp import codes as totp
    from tests.passkeys.conftest import add_passkey

    add_passkey(member_with_totp)
    password_step(client, member_with_totp.email)
    page = page_text(client.get(reverse("accounts:login-passkey")))
    assert "Use your authenticator app instead" in page
    response = client.post(reverse("accounts:login-switch"), {"step": "code"})
    assert response.url == reverse("accounts:login-code")
    code = totp.code_at(member_with_totp.totp_secret, clock.step())
    client.post(reverse("accounts:login-code"), {"code": code})
    assert is_signed_in(client)


def test_no_switch_to_a_step_the_member_lacks(passkey_client):
    for step in ("code", "email-link", "nope"):
        response = passkey_client.post(reverse("accounts:login-switch"), {"step": step})
        assert response.url == reverse("accounts:login-passkey")
    assert not is_signed_in(passkey_client)
