"""A member sets up an authenticator app, then signs in with its codes and a recovery code."""

from __future__ import annotations

import time
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    HOME,
    heading,
    password_step,
    sign_in_with_code,
    sign_in_with_link,
    sign_out,
)
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def enroll_in_browser(page, *, from_url: str = "/settings/personal/") -> tuple[list[str], str]:
    """Walk the setup from personal settings: recovery codes, QR page, a code from the key
    shown on the page. Returns the recovery codes and the key."""
    if from_url:
        page.goto(from_url)
        page.get_by_role("link", name="Set up an authenticator app").click()
    page.wait_for_url("**/settings/personal/two-factor/setup/")
    page.get_by_role("button", name="Get started").click()

    page.wait_for_url("**/setup/codes/")
    assert heading(page) == "Save your recovery codes"
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10 and len(set(codes)) == 10
    expect(page.get_by_role("link", name="Download (.txt)")).to_be_visible()
    expect(page.get_by_role("link", name="Print")).to_be_visible()
    expect(page.get_by_role("button", name="Copy")).to_be_visible()  # shown by copy.js
    page.get_by_label("I saved my recovery codes").check()
    page.get_by_role("button", name="Next").click()

    page.wait_for_url("**/setup/app/")
    assert heading(page) == "Scan the QR code"
    expect(page.locator(".qr svg")).to_be_visible()
    grouped = page.locator("#manual-key").inner_text()
    assert " " in grouped  # grouped for reading aloud
    key = grouped.replace(" ", "")
    # Confirm with the previous time step's code (one step of drift is allowed), so the
    # current step is still unused when the test signs in with a code next.
    code = pyotp.TOTP(key).at(time.time() - 30)
    field = page.get_by_label("Authentication code")
    expect(field).to_be_focused()
    assert field.get_attribute("autocomplete") == "one-time-code"
    assert field.get_attribute("inputmode") == "numeric"
    field.fill(code)
    page.get_by_role("button", name="Verify and turn on").click()

    page.wait_for_url("**/setup/done/")
    assert "Two-factor authentication is on" in heading(page)
    return codes, key


def sign_in_with_recovery_code(page, email: str, code: str) -> None:
    """Password, then "Use a recovery code instead": its own field, with a text keyboard."""
    password_step(page, email, PASSWORD)
    page.wait_for_url("**/login/code/")
    page.get_by_role("button", name="Use a recovery code instead").click()
    page.wait_for_url("**/login/code/recovery/")
    field = page.get_by_label("Recovery code")
    expect(field).to_be_focused()
    assert field.get_attribute("inputmode") is None
    assert page.get_by_role("button", name="Use your authenticator app instead").is_visible()
    field.fill(code)
    page.get_by_role("button", name="Verify").click()


def test_member_enrolls_app_then_signs_in_with_code_and_recovery_code(page, member):
    sign_in_with_link(page, member.email, PASSWORD)
    codes, key = enroll_in_browser(page)

    page.goto("/settings/personal/")
    expect(page.get_by_text("Authenticator app: on")).to_be_visible()
    sign_out(page)

    sign_in_with_code(page, member.email, pyotp.TOTP(key).now())
    page.wait_for_url(HOME)
    assert "Welcome" in heading(page)
    sign_out(page)

    sign_in_with_recovery_code(page, member.email, codes[0])
    page.wait_for_url(HOME)
    expect(page.get_by_role("status")).to_contain_text("9 recovery codes left")
    sign_out(page)

    # Each recovery code works once: the error sits by the field and is announced.
    sign_in_with_recovery_code(page, member.email, codes[0])
    error = page.get_by_role("alert")
    expect(error).to_contain_text("That recovery code was already used.")
    field = page.get_by_label("Recovery code")
    assert field.get_attribute("aria-invalid") == "true"
    error_id = page.locator(".field-error").get_attribute("id")
    assert error_id in (field.get_attribute("aria-describedby") or "").split()


def test_wrong_code_format_is_explained(page, member_with_totp):
    sign_in_with_code(page, member_with_totp.email, "12345")
    expect(page.get_by_role("alert")).to_contain_text("6-digit code")
    assert page.url.endswith("/login/code/")


def test_copy_button_puts_the_codes_on_the_clipboard(new_context, member):
    context = new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    sign_in_with_link(page, member.email, PASSWORD)
    page.goto("/settings/personal/two-factor/setup/")
    page.get_by_role("button", name="Get started").click()
    page.wait_for_url("**/setup/codes/")
    codes = page.locator("#recovery-codes code").all_inner_texts()

    copy = page.get_by_role("button", name="Copy")
    expect(copy).to_be_visible()
    copy.click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()").split() == codes


def test_codes_page_without_javascript_hides_copy_and_still_works(new_context, member):
    page = new_context(java_script_enabled=False).new_page()
    sign_in_with_link(page, member.email, PASSWORD)
    page.goto("/settings/personal/two-factor/setup/")
    page.get_by_role("button", name="Get started").click()
    page.wait_for_url("**/setup/codes/")
    expect(page.get_by_role("button", name="Copy")).to_be_hidden()

    with page.expect_download() as download:
        page.get_by_role("link", name="Download (.txt)").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert all(code in text for code in codes)


def test_print_shows_only_the_codes(page, member):
    sign_in_with_link(page, member.email, PASSWORD)
    page.goto("/settings/personal/two-factor/setup/")
    page.get_by_role("button", name="Get started").click()
    page.wait_for_url("**/setup/codes/")

    page.emulate_media(media="print")
    expect(page.locator("#recovery-codes")).to_be_visible()
    expect(page.locator(".topbar")).to_be_hidden()
    expect(page.get_by_role("button", name="Next")).to_be_hidden()
    expect(page.get_by_role("link", name="Download (.txt)")).to_be_hidden()
    page.emulate_media(media="screen")

    with page.context.expect_page() as popup:
        page.get_by_role("link", name="Print").click()
    printable = popup.value
    printable.wait_for_load_state()
    assert printable.locator("ol.codes li").count() == 10
