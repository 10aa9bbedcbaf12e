"""Trusted browsers in two browsers (contexts): the one that was trusted skips the second
step, the other is still asked; stopping the trust from the other ends it; a new password ends
every trust."""

from __future__ import annotations

import pytest

from accounts.models import User
from tests.browser.conftest import heading, password_step, sign_out
from tests.conftest import PASSWORD, recovery_codes_of

pytestmark = pytest.mark.browser


def _code_step(page, email: str, code: str, *, trust: bool, password: str = PASSWORD) -> None:
    password_step(page, email, password)
    page.wait_for_url("**/login/code/")
    page.get_by_role("button", name="Use a recovery code instead").click()
    page.wait_for_url("**/login/code/recovery/")
    if trust:
        page.get_by_label("Trust this browser for 30 days").check()
    page.get_by_label("Recovery code").fill(code)
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(lambda url: "/login/" not in url)


def test_trust_one_browser_and_end_it_from_the_other(new_context, member_with_totp):
    codes = iter(recovery_codes_of(member_with_totp))
    email = member_with_totp.email
    trusted, other = new_context().new_page(), new_context().new_page()

    _code_step(trusted, email, next(codes), trust=True)
    sign_out(trusted)
    password_step(trusted, email, PASSWORD)
    trusted.wait_for_url(lambda url: "/login/" not in url)  # no second step
    assert heading(trusted) != "Two-factor authentication"

    password_step(other, email, PASSWORD)
    other.wait_for_url("**/login/code/")  # still asked
    other.get_by_role("button", name="Use a recovery code instead").click()
    other.get_by_label("Recovery code").fill(next(codes))
    other.get_by_role("button", name="Verify").click()
    other.wait_for_url(lambda url: "/login/" not in url)
    other.goto("/settings/personal/")
    listed = other.locator("#trusted-browsers")
    assert "Chrome" in listed.inner_text() and "this browser" not in listed.inner_text()
    listed.get_by_role("button", name="Stop trusting").click()
    assert "That browser is no longer trusted." in other.content()

    sign_out(trusted)
    password_step(trusted, email, PASSWORD)
    trusted.wait_for_url("**/login/code/")  # asked again


def test_a_new_password_ends_every_trust(new_context, member_with_totp):
    codes = iter(recovery_codes_of(member_with_totp))
    email = member_with_totp.email
    page = new_context().new_page()
    _code_step(page, email, next(codes), trust=True)
    page.goto("/settings/personal/")
    assert "this browser" in page.locator("#trusted-browsers").inner_text()

    user = User.objects.get(pk=member_with_totp.pk)
    new = "another passphrase 43"
    user.set_password(new)
    user.save()

    page.goto("/settings/personal/")
    page.wait_for_url("**/login/**")  # this session ended with the new password
    password_step(page, email, new)
    page.wait_for_url("**/login/code/")  # and the trust with it
