"""Account Admin journeys: require the app for the team; remove and re-add a member."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    HOME,
    heading,
    link_in_email,
    password_step,
    sign_in_with_code,
    sign_in_with_link,
    sign_out,
)
from tests.browser.test_authenticator import enroll_in_browser
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_admin_requires_app_and_member_is_walked_through_enrollment(
    new_context, account_admin, member
):
    admin = new_context().new_page()
    sign_in_with_link(admin, account_admin.email, PASSWORD)

    # Enable is disabled, and says why, until the admin has an app of their own.
    admin.goto("/settings/security/")
    enable = admin.get_by_role("button", name="Enable")
    expect(enable).to_be_disabled()
    expect(enable).to_have_accessible_description(
        "To turn this on, first set up an authenticator app or a passkey on your own account. "
        "Set up an app · Add a passkey"
    )
    admin.get_by_role("link", name="Set up an app").click()
    enroll_in_browser(admin, from_url="")

    admin.goto("/settings/security/")
    admin.get_by_role("button", name="Enable").click()
    admin.get_by_role("button", name="Require the app").click()  # after the confirmation
    expect(admin.get_by_role("status")).to_contain_text("Every team member now needs")
    expect(admin.get_by_text("Required", exact=True)).to_be_visible()

    # The member still signs in with the link, then can go nowhere but enrollment.
    page = new_context().new_page()
    sign_in_with_link(page, member.email, PASSWORD)
    page.wait_for_url("**/settings/personal/two-factor/setup/")
    expect(page.get_by_text("Your team requires two-factor authentication")).to_be_visible()
    for elsewhere in ("/", "/settings/team/", "/settings/personal/"):
        page.goto(elsewhere)
        page.wait_for_url("**/settings/personal/two-factor/setup/")

    _codes, key = enroll_in_browser(page, from_url="")
    page.goto("/settings/team/")
    assert heading(page) == "Team Members"
    row = page.get_by_role("row").filter(has_text=member.email)
    expect(row).to_contain_text("Authenticator app")

    # While the requirement is on, the member can't remove their app.
    page.goto("/settings/personal/two-factor/")
    expect(page.get_by_text("you can't remove it")).to_be_visible()
    expect(page.get_by_role("link", name="Remove authenticator app")).to_have_count(0)


def test_admin_removes_and_readds_member(new_context, account_admin, member):
    member_page = new_context().new_page()
    sign_in_with_link(member_page, member.email, PASSWORD)
    admin = new_context().new_page()
    sign_in_with_link(admin, account_admin.email, PASSWORD)

    admin.goto("/settings/team/")
    row = admin.get_by_role("row").filter(has_text=member.email)
    expect(row).to_contain_text("Email link")
    admin.get_by_role("link", name=f"Remove {member.email}").click()
    assert heading(admin) == f"Remove {member.email}?"
    admin.get_by_role("button", name="Remove from team").click()
    admin.wait_for_url("**/settings/team/")
    expect(admin.get_by_role("status")).to_contain_text(f"{member.email} was removed")
    expect(admin.get_by_role("row").filter(has_text=member.email)).to_have_count(0)

    # The member's open session died with the removal.
    member_page.goto("/settings/personal/")
    member_page.wait_for_url("**/login/**")

    # Added again: a fresh member who sets a password, then signs in as usual.
    admin.get_by_label("Email").fill(member.email)
    admin.get_by_label("Name").fill("Mia Again")
    admin.get_by_role("button", name="Add and invite").click()
    expect(admin.get_by_role("status")).to_contain_text(f"{member.email} was added")
    expect(admin.get_by_role("row").filter(has_text=member.email)).to_contain_text("Never")

    invite = link_in_email(member.email, pattern=r"/invite/\S+/")
    new_password = "a brand new passphrase 42"
    member_page.goto(invite)
    assert heading(member_page) == "Welcome to Acme"
    member_page.get_by_label("Password", exact=True).fill(new_password)
    member_page.get_by_label("Confirm password").fill(new_password)
    member_page.get_by_role("button", name="Save password and sign in").click()
    # Straight in: the invitation proved the mailbox, no other link to wait for.
    member_page.wait_for_url(HOME)
    assert "Welcome" in heading(member_page)
    sign_out(member_page)

    sign_in_with_link(member_page, member.email, new_password)
    member_page.goto("/settings/personal/")
    expect(member_page.get_by_text("Email link", exact=True)).to_be_visible()


def test_removed_member_with_app_starts_over(new_context, account_admin, member_with_totp):
    """Lost phone: after remove and re-add, the old app's codes no longer matter."""
    admin = new_context().new_page()
    sign_in_with_link(admin, account_admin.email, PASSWORD)
    admin.goto("/settings/team/")
    admin.get_by_role("link", name=f"Remove {member_with_totp.email}").click()
    admin.get_by_role("button", name="Remove from team").click()
    admin.get_by_label("Email").fill(member_with_totp.email)
    admin.get_by_role("button", name="Add and invite").click()
    expect(admin.get_by_role("status")).to_contain_text("was added")

    page = new_context().new_page()
    page.goto(link_in_email(member_with_totp.email, pattern=r"/invite/\S+/"))
    page.get_by_label("Password", exact=True).fill("another new passphrase 7")
    page.get_by_label("Confirm password").fill("another new passphrase 7")
    page.get_by_role("button", name="Save password and sign in").click()
    page.wait_for_url(HOME)
    assert "Welcome" in heading(page)
    sign_out(page)
    # No app any more: the second step is the emailed link, not a code.
    sign_in_with_link(page, member_with_totp.email, "another new passphrase 7")
    assert "Welcome" in heading(page)


def test_member_cannot_open_the_security_page(page, member):
    sign_in_with_link(page, member.email, PASSWORD)
    expect(page.get_by_role("link", name="Security")).to_have_count(0)
    response = page.goto("/settings/security/")
    assert response.status == 403
    assert heading(page) == "You can't open this page"


def test_locked_code_step_says_so(page, member_with_totp, settings):
    settings.TWOFACTOR_MAX_FAILED_CODES = 2
    for _ in range(2):
        sign_in_with_code(page, member_with_totp.email, "000000")
        page.get_by_role("button", name="Use another account").click()
    password_step(page, member_with_totp.email, PASSWORD)
    page.wait_for_url("**/login/code/")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Too many failed attempts")
    expect(alert).to_contain_text(re.compile(r"locked until \d\d:\d\d UTC"))
    expect(alert).to_contain_text("Try again in 15 minutes.")
    expect(page.get_by_role("heading", name="What you can do now")).to_be_visible()
    expect(page.get_by_label("Authentication code")).to_have_count(0)
    expect(page.get_by_role("button", name="Use a recovery code instead")).to_have_count(0)
    expect(page.get_by_text("recovery codes above")).to_have_count(0)
