"""Passkeys in Chromium, with its virtual authenticator (CDP WebAuthn domain: ctap2, internal
transport, resident key, user verification): register, sign out, sign in with the key; a
browser without the key cannot pass; a removed key is refused; "app or passkey" lets a member
with only a key in."""

from __future__ import annotations

import base64

import pytest
from playwright.sync_api import expect

from accounts.models import Account
from security.passkeys.models import Passkey
from tests.browser.conftest import heading, password_step, sign_in_with_link, sign_out
from tests.conftest import PASSWORD
from tests.passkeys.authenticator import chromium_authenticator as authenticator

pytestmark = pytest.mark.browser


def credential_ids(cdp, authenticator_id) -> list[str]:
    """The ids of the credentials the authenticator holds, base64url as the site spells them."""
    found = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    return [
        base64.urlsafe_b64encode(base64.b64decode(c["credentialId"])).rstrip(b"=").decode()
        for c in found["credentials"]
    ]


def add_passkey_in_browser(page, name: str, *, codes_first: bool = True) -> None:
    """From personal settings (the first key) or the list of keys (another)."""
    page.goto("/settings/personal/" if codes_first else "/settings/personal/passkeys/")
    page.get_by_role("link", name="Add a passkey or security key").click()
    if codes_first:
        page.wait_for_url("**/settings/personal/passkeys/add/codes/")
        assert heading(page) == "Save your recovery codes"
        expect(page.locator("#recovery-codes code")).to_have_count(10)
        page.get_by_label("I saved my recovery codes").check()
        page.get_by_role("button", name="Next").click()
    page.wait_for_url("**/settings/personal/passkeys/add/")
    page.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_url("**/settings/personal/passkeys/")
    expect(page.get_by_role("status")).to_contain_text(f"Passkey “{name}” added")
    expect(page.get_by_role("cell", name=name, exact=True)).to_be_visible()


def sign_in_with_passkey(page, email: str) -> None:
    password_step(page, email, PASSWORD)
    page.wait_for_url("**/login/passkey/")
    assert heading(page) == "Use your passkey"
    page.get_by_role("button", name="Continue with passkey").click()
    page.wait_for_url(lambda url: "/login/" not in url)


def test_member_registers_a_passkey_signs_out_and_signs_in_with_it(new_context, member):
    page = new_context().new_page()
    cdp, authenticator_id = authenticator(page)
    sign_in_with_link(page, member.email, PASSWORD)
    add_passkey_in_browser(page, "Laptop")
    assert credential_ids(cdp, authenticator_id) == [Passkey.objects.get(user=member).credential_id]
    sign_out(page)

    sign_in_with_passkey(page, member.email)
    assert "Welcome" in heading(page)
    page.goto("/settings/personal/passkeys/")
    expect(page.get_by_role("cell", name="Never")).to_have_count(0)  # last used: just now

    # Another browser, with an authenticator that never registered a key, cannot pass.
    other = new_context().new_page()
    authenticator(other)
    password_step(other, member.email, PASSWORD)
    other.wait_for_url("**/login/passkey/")
    other.get_by_role("button", name="Continue with passkey").click()
    expect(other.get_by_role("alert")).to_contain_text("cancelled, or it timed out")
    other.goto("/")
    other.wait_for_url("**/login/passkey/")  # still at the step, not signed in


def test_a_removed_key_is_refused(new_context, member):
    page = new_context().new_page()
    cdp, first = authenticator(page)
    sign_in_with_link(page, member.email, PASSWORD)
    add_passkey_in_browser(page, "Old key")
    (old,) = cdp.send("WebAuthn.getCredentials", {"authenticatorId": first})["credentials"]
    old_id = credential_ids(cdp, first)[0]
    # A second key on another authenticator, then the first one removed.
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": first})
    _cdp, second = authenticator(page)
    add_passkey_in_browser(page, "New key", codes_first=False)
    page.get_by_role("link", name="Remove Old key").click()
    page.get_by_role("button", name="Remove").click()
    expect(page.get_by_role("status")).to_contain_text("Passkey “Old key” removed")
    sign_out(page)

    # The browser holds only the old key again. Even made to offer it, the site refuses it.
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": second})
    _cdp, third = authenticator(page)
    cdp.send("WebAuthn.addCredential", {"authenticatorId": third, "credential": old})
    password_step(page, member.email, PASSWORD)
    page.wait_for_url("**/login/passkey/")
    page.evaluate(
        """(id) => {
          const data = document.getElementById("passkey-options");
          const options = JSON.parse(data.textContent);
          options.allowCredentials = [{type: "public-key", id: id}];
          data.textContent = JSON.stringify(options);
        }""",
        old_id,
    )
    page.get_by_role("button", name="Continue with passkey").click()
    expect(page.get_by_role("alert")).to_contain_text("isn't registered to your account")
    page.goto("/")
    page.wait_for_url("**/login/passkey/")


def test_app_or_passkey_requirement_lets_a_member_with_only_a_key_in(
    new_context, account_admin, member, account
):
    admin = new_context().new_page()
    authenticator(admin)
    sign_in_with_link(admin, account_admin.email, PASSWORD)
    add_passkey_in_browser(admin, "Admin key")
    admin.goto("/settings/security/")
    expect(admin.get_by_label("Authenticator app", exact=True)).to_be_disabled()  # no app
    admin.get_by_label("Authenticator app or passkey").check()
    admin.get_by_role("button", name="Enable").click()
    admin.get_by_role("button", name="Require an app or a passkey").click()
    expect(admin.get_by_role("status")).to_contain_text("an authenticator app or a passkey")
    assert Account.objects.get(pk=account.pk).accept_passkeys

    # The member is sent to set-up, where a passkey is offered and is enough.
    page = new_context().new_page()
    authenticator(page)
    sign_in_with_link(page, member.email, PASSWORD)
    page.wait_for_url("**/settings/personal/two-factor/setup/")
    page.get_by_role("link", name="Add a passkey or security key instead").click()
    page.wait_for_url("**/passkeys/add/codes/")
    page.get_by_label("I saved my recovery codes").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Name").fill("Phone")
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_url("**/settings/personal/passkeys/")
    page.goto("/")
    assert "Welcome" in heading(page)  # not sent to app set-up
    sign_out(page)
    sign_in_with_passkey(page, member.email)
    assert "Welcome" in heading(page)
    page.goto("/settings/team/")
    expect(page.get_by_text("Passkey", exact=True)).to_have_count(2)
