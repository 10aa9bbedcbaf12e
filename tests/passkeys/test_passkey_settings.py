"""Adding, listing, renaming and removing passkeys from personal settings: after a recent
proof, recovery codes first, each change a security event and an email."""

from __future__ import annotations

from http import HTTPStatus

from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import Account
from security.models import RecoveryCode, SecurityEvent
from security.passkeys.models import Passkey
from tests.conftest import PASSWORD, is_signed_in, page_text, sign_in_with_link
from tests.passkeys.authenticator import SoftKey, options_in
from tests.passkeys.conftest import add_passkey

Kind = SecurityEvent.Kind
ADD = reverse("security:passkey-add")


def codes_saved(client) -> None:
    response = client.get(ADD)
    assert response.url == reverse("security:passkey-codes")
    response = client.get(response.url)
    assert response.status_code == HTTPStatus.OK
    assert page_text(response).count("<code>") == 10
    assert 'href=""' not in page_text(response)  # no download or print link without an address
    assert client.post(reverse("security:passkey-codes"), {"saved": "yes"}).url == ADD


def register(client, key: SoftKey, name: str = "Work laptop", **how):
    options = options_in(client.get(ADD))
    return client.post(ADD, {"name": name, "answer": key.register(options, **how)})


def test_member_adds_a_passkey_after_saving_recovery_codes(signed_in, member, settings):
    other = Client()
    sign_in_with_link(other, member.email)
    codes_saved(signed_in)
    options = options_in(signed_in.get(ADD))
    assert options["rp"] == {"name": settings.SITE_NAME, "id": "twofactor.example"}
    assert options["user"]["name"] == member.email
    assert member.email not in options["user"]["id"]  # a handle, not the address
    key = SoftKey(origin=settings.SITE_URL, counter=1)
    response = signed_in.post(ADD, {"name": "Work laptop", "answer": key.register(options)})
    assert response.url == reverse("security:passkeys")
    passkey = Passkey.objects.get(user=member)
    assert (passkey.name, passkey.credential_id, passkey.transports) == ("Work laptop", key.id, ["usb"])
    assert RecoveryCode.objects.filter(user=member, active=True).count() == 10
    assert SecurityEvent.objects.filter(kind=Kind.PASSKEY_ADDED, user=member).exists()
    assert [m.subject for m in mail.outbox if "passkey added" in m.subject]
    assert is_signed_in(signed_in) and not is_signed_in(other)  # the other session ended
    listing = page_text(signed_in.get(reverse("security:passkeys")))
    assert "Work laptop" in listing and "Never" in listing


def test_codes_page_is_skipped_when_the_member_has_codes(signed_in, member):
    add_passkey(member, client=signed_in)
    assert signed_in.get(ADD).status_code == HTTPStatus.OK


def test_adding_needs_a_recent_proof(signed_in, clock):
    clock.advance(minutes=30)
    response = signed_in.get(ADD)
    assert response.url.startswith(reverse("security:reauth"))


def test_a_replayed_registration_is_refused(signed_in, member, settings):
    codes_saved(signed_in)
    options = options_in(signed_in.get(ADD))
    key = SoftKey(origin=settings.SITE_URL, counter=1)
    answer = key.register(options)
    assert signed_in.post(ADD, {"name": "A", "answer": answer}).status_code == HTTPStatus.FOUND
    response = signed_in.post(ADD, {"name": "B", "answer": answer})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "used twice" in page_text(response)
    assert Passkey.objects.filter(user=member).count() == 1


def test_a_registration_from_another_origin_or_rp_id_is_refused(signed_in, member):
    codes_saved(signed_in)
    for how in ({"origin": "https://evil.example"}, {"rp_id": "evil.example"}):
        response = register(signed_in, SoftKey(origin="https://twofactor.example"), **how)
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "couldn't be verified" in page_text(response)
    assert not Passkey.objects.filter(user=member).exists()
    assert not RecoveryCode.objects.filter(user=member, active=True).exists()


def test_a_key_registered_twice_is_refused(signed_in, member, settings):
    key = add_passkey(member, client=signed_in)
    response = register(signed_in, key)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "already registered" in page_text(response)


def test_the_browser_saying_no_gets_a_clear_page(signed_in):
    codes_saved(signed_in)
    for error, text in [
        ("NotAllowedError", "cancelled, or it timed out"),
        ("InvalidStateError", "already registered to your account"),
        ("SecurityError", "over https"),
    ]:
        response = signed_in.post(ADD, {"name": "K", "error": error})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert text in page_text(response)


def test_names_with_control_characters_are_refused(signed_in, settings):
    codes_saved(signed_in)
    response = register(signed_in, SoftKey(origin=settings.SITE_URL), name="Key\nBcc: x")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "control characters" in page_text(response)


def test_rename_is_an_event_and_an_email(signed_in, member):
    add_passkey(member, name="Old", client=signed_in)
    passkey = Passkey.objects.get(user=member)
    response = signed_in.post(reverse("security:passkey-rename", args=[passkey.pk]), {"name": "New"})
    assert response.url == reverse("security:passkeys")
    passkey.refresh_from_db()
    assert passkey.name == "New"
    event = SecurityEvent.objects.get(kind=Kind.PASSKEY_RENAMED)
    assert event.detail == {"old_name": "Old", "name": "New"}
    assert any("passkey renamed" in m.subject for m in mail.outbox)


def test_remove_is_an_event_and_an_email_and_the_last_key_takes_the_codes(signed_in, member):
    add_passkey(member, name="Only", client=signed_in)
    passkey = Passkey.objects.get(user=member)
    url = reverse("security:passkey-remove", args=[passkey.pk])
    assert "Remove “Only”?" in page_text(signed_in.get(url))
    assert signed_in.post(url).url == reverse("security:passkeys")
    assert not Passkey.objects.filter(user=member).exists()
    assert not RecoveryCode.objects.filter(user=member).exists()  # back to the email link
    assert SecurityEvent.objects.filter(kind=Kind.PASSKEY_REMOVED, user=member).exists()
    assert any("passkey removed" in m.subject for m in mail.outbox)
    assert is_signed_in(signed_in)


def test_another_members_key_is_not_found(signed_in, account_admin):
    add_passkey(account_admin)
    passkey = Passkey.objects.get(user=account_admin)
    for name in ("security:passkey-rename", "security:passkey-remove"):
        assert signed_in.post(reverse(name, args=[passkey.pk]), {"name": "x"}).status_code == 404
    assert Passkey.objects.filter(pk=passkey.pk, name="YubiKey").exists()


def test_the_last_accepted_key_stays_while_the_requirement_needs_it(signed_in, member, account):
    add_passkey(member, client=signed_in)
    Account.objects.filter(pk=account.pk).update(require_totp=True, accept_passkeys=True)
    passkey = Passkey.objects.get(user=member)
    url = reverse("security:passkey-remove", args=[passkey.pk])
    assert "can't be removed" in page_text(signed_in.get(url))
    assert signed_in.post(url).status_code == HTTPStatus.FORBIDDEN
    assert Passkey.objects.filter(pk=passkey.pk).exists()


def test_personal_settings_offer_and_show_passkeys(signed_in, member):
    page = page_text(signed_in.get(reverse("security:personal")))
    assert "Add a passkey or security key" in page
    add_passkey(member, client=signed_in)
    page = page_text(signed_in.get(reverse("security:personal")))
    assert "1 passkey" in page and "Manage passkeys" in page


def test_sign_in_with_a_password_alone_is_not_enough_after_adding_a_key(client, member):
    add_passkey(member)
    client.post(reverse("accounts:login"), {"email": member.email, "password": PASSWORD})
    assert not is_signed_in(client)


def test_a_key_added_beside_the_app_keeps_the_apps_recovery_codes(signed_in, member):
    from tests.conftest import enroll_totp, recovery_codes_of

    enroll_totp(member, client=signed_in)
    before = recovery_codes_of(member)
    add_passkey(member, client=signed_in)
    assert recovery_codes_of(member) == before
