"""The places a new user tripped over (issue 15), walked as a person would, at desktop and phone
width: set-up on the phone that holds the app, forced set-up, refusals inside the signed-in
layout, confirmations before changes that reach far, the Team Members page."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import Account
from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    heading,
    link_in_email,
    sign_in_with_app,
    sign_in_with_link,
)
from tests.conftest import PASSWORD, enroll_totp

pytestmark = pytest.mark.browser

WIDTHS = pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])


def _to_qr_page(page) -> None:
    page.goto("/settings/personal/two-factor/setup/")
    page.get_by_role("button", name="Get started").click()
    page.get_by_label("I saved my recovery codes").check()
    page.get_by_role("button", name="Next").click()
    page.wait_for_url("**/setup/app/")


def _no_sideways_scroll(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@WIDTHS
def test_qr_page_opens_the_app_on_this_phone_and_copies_the_key(new_context, member, size):
    context = new_context(size, permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    sign_in_with_link(page, member.email, PASSWORD)
    _to_qr_page(page)
    grouped = page.locator("#manual-key").inner_text()
    key = grouped.replace(" ", "")
    assert grouped != key  # shown in groups, to read and type

    link = page.get_by_role("link", name="Open in your authenticator app")
    expect(link).to_be_visible()
    uri = urlsplit(link.get_attribute("href"))
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert parse_qs(uri.query)["secret"] == [key]
    assert member.email in uri.path.replace("%40", "@")

    page.get_by_role("button", name="Copy key").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == key  # no spaces to trip an app
    _no_sideways_scroll(page, size["width"])

    # The copied key sets the app up: its code turns the app on.
    page.get_by_label("Authentication code").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Verify and turn on").click()
    page.wait_for_url("**/setup/done/")


def test_qr_page_without_javascript_still_offers_the_link(new_context, member):
    page = new_context(java_script_enabled=False).new_page()
    sign_in_with_link(page, member.email, PASSWORD)
    _to_qr_page(page)
    href = page.get_by_role("link", name="Open in your authenticator app").get_attribute("href")
    assert href.startswith("otpauth://totp/")
    expect(page.get_by_role("button", name="Copy key")).to_be_hidden()


def test_step_counts_agree_with_the_intro(page, member):
    sign_in_with_link(page, member.email, PASSWORD)
    page.goto("/settings/personal/two-factor/setup/")
    steps = page.locator("ol.steps > li").count()
    page.get_by_role("button", name="Get started").click()
    expect(page.locator(".step-count")).to_have_text(f"Step 1 of {steps}")
    page.get_by_label("I saved my recovery codes").check()
    page.get_by_role("button", name="Next").click()
    expect(page.locator(".step-count")).to_have_text(f"Step {steps} of {steps}")


@WIDTHS
def test_forced_setup_nav_shows_only_what_works(new_context, account, member, size):
    Account.objects.filter(pk=account.pk).update(require_totp=True)
    page = new_context(size).new_page()
    sign_in_with_link(page, member.email, PASSWORD)
    page.wait_for_url("**/two-factor/setup/")
    topbar = page.locator(".topbar")
    expect(topbar.get_by_role("link")).to_have_count(0)  # nothing that would bounce back
    expect(topbar).to_contain_text("Finish setting up your authenticator app")
    expect(topbar.get_by_role("button", name="Sign out")).to_be_visible()
    _no_sideways_scroll(page, size["width"])

    _to_qr_page(page)
    expect(page.locator(".topbar").get_by_role("link")).to_have_count(0)
    key = page.locator("#manual-key").inner_text().replace(" ", "")
    page.get_by_label("Authentication code").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Verify and turn on").click()
    page.wait_for_url("**/setup/done/")
    # Set up: the whole nav is back.
    expect(page.locator(".topbar").get_by_role("link", name="Team Members")).to_be_visible()


@WIDTHS
def test_forced_setup_with_passkeys_accepted_counts_the_same_two_steps(
    new_context, account, member, size
):
    from tests.passkeys.authenticator import chromium_authenticator as authenticator

    Account.objects.filter(pk=account.pk).update(require_totp=True, accept_passkeys=True)
    page = new_context(size).new_page()
    authenticator(page)
    sign_in_with_link(page, member.email, PASSWORD)
    page.wait_for_url("**/two-factor/setup/")
    topbar = page.locator(".topbar")
    expect(topbar).to_contain_text("Finish setting up an authenticator app or a passkey")
    page.get_by_role("link", name="Add a passkey or security key instead").click()
    expect(page.locator(".step-count")).to_have_text("Step 1 of 2")
    expect(topbar.get_by_role("link")).to_have_count(0)
    page.get_by_label("I saved my recovery codes").check()
    page.get_by_role("button", name="Next").click()
    expect(page.locator(".step-count")).to_have_text("Step 2 of 2")
    expect(topbar.get_by_role("link")).to_have_count(0)
    _no_sideways_scroll(page, size["width"])
    page.get_by_label("Name").fill("Phone")
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_url("**/settings/personal/passkeys/")
    # Set up: the whole nav is back, and a further key is one step, not "2 of 2".
    expect(topbar.get_by_role("link", name="Team Members")).to_be_visible()
    page.get_by_role("link", name="Add a passkey or security key").click()
    page.wait_for_url("**/settings/personal/passkeys/add/")
    expect(page.locator(".step-count")).to_have_count(0)


def test_forced_setup_passkey_list_leads_back_to_setup(page, account, member):
    """Under an app-only requirement a member may look at their keys, and nothing there
    bounces: no rename or remove, and the way back is to set-up."""
    from security.passkeys.models import Passkey

    Account.objects.filter(pk=account.pk).update(require_totp=True)
    sign_in_with_link(page, member.email, PASSWORD)
    Passkey.objects.create(user=member, name="Old key", credential_id="AAAA", public_key=b"\0")
    page.goto("/settings/personal/passkeys/")
    main = page.locator("main")
    expect(main.get_by_role("cell", name="Old key", exact=True)).to_be_visible()
    expect(main.get_by_role("link", name=re.compile("Rename|Remove"))).to_have_count(0)
    main.get_by_role("link", name="Back to set-up").click()
    page.wait_for_url("**/two-factor/setup/")


@WIDTHS
def test_signed_in_refusals_keep_the_signed_in_layout(new_context, member, size):
    page = new_context(size).new_page()
    sign_in_with_link(page, member.email, PASSWORD)
    for path, status, title in (
        ("/no/such/page/", 404, "Page not found"),
        ("/settings/security/", 403, "You can't open this page"),
    ):
        response = page.goto(path)
        assert response.status == status
        assert heading(page) == title
        expect(page.get_by_role("link", name="Personal")).to_be_visible()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        expect(page.locator(".entrance-card")).to_have_count(0)
        _no_sideways_scroll(page, size["width"])


def test_signed_out_refusal_keeps_the_entrance_card(page, db):
    assert page.goto("/no/such/page/").status == 404
    expect(page.locator(".entrance-card")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)


def test_remove_app_page_tells_an_admin_what_they_can_do(page, account, account_admin):
    secret = enroll_totp(account_admin)
    Account.objects.filter(pk=account.pk).update(require_totp=True)
    sign_in_user_with_app(page, account_admin, secret)
    page.goto("/settings/personal/two-factor/remove/")
    assert heading(page) == "Your authenticator app can't be removed"
    main = page.locator("main")
    expect(main).not_to_contain_text("ask an Account Admin")
    expect(main).not_to_contain_text("Ask an Account Admin")
    main.get_by_role("link", name="Security page").click()
    page.wait_for_url("**/settings/security/")
    page.go_back()
    page.get_by_role("link", name="Back").click()
    page.wait_for_url("**/settings/personal/two-factor/")


def test_remove_app_page_tells_a_member_whom_to_ask(page, account, member):
    secret = enroll_totp(member)
    Account.objects.filter(pk=account.pk).update(require_totp=True)
    sign_in_user_with_app(page, member, secret)
    page.goto("/settings/personal/two-factor/remove/")
    expect(page.locator("main")).to_contain_text("ask an Account Admin of your team")
    expect(page.locator("main").get_by_role("link", name="Security page")).to_have_count(0)
    page.get_by_role("link", name="Back").click()
    page.wait_for_url("**/settings/personal/two-factor/")


def sign_in_user_with_app(page, user, secret: str | None = None) -> None:
    """Give ``user`` an app (unless ``secret`` says they have one), then sign in: password,
    then the app's current code."""
    sign_in_with_app(page, user.email, secret or enroll_totp(user))


@WIDTHS
def test_regenerating_codes_asks_first(new_context, member, size):
    page = new_context(size).new_page()
    sign_in_user_with_app(page, member)
    page.goto("/settings/personal/two-factor/codes/")
    before = page.locator("#recovery-codes code").all_inner_texts()

    page.get_by_role("link", name="Generate new recovery codes").click()
    assert heading(page) == "Generate new recovery codes?"
    expect(page.locator("main")).to_contain_text("stop working at once")
    _no_sideways_scroll(page, size["width"])
    page.get_by_role("link", name="Cancel").click()
    assert page.locator("#recovery-codes code").all_inner_texts() == before

    page.get_by_role("link", name="Generate new recovery codes").click()
    page.get_by_role("button", name="Generate new codes").click()
    expect(page.locator(".messages")).to_contain_text("Your old codes no longer work")
    after = page.locator("#recovery-codes code").all_inner_texts()
    assert len(after) == 10 and set(after).isdisjoint(before)


@WIDTHS
def test_turning_the_requirement_on_and_off_asks_first(
    new_context, account, account_admin, member, sso_member, size
):
    page = new_context(size).new_page()
    sign_in_user_with_app(page, account_admin)
    page.goto("/settings/security/")

    page.get_by_role("button", name="Enable").click()
    assert heading(page) == "Require an authenticator app for the whole team?"
    # The member without an app is counted; the admin has one; SSO members don't count.
    expect(page.locator("main")).to_contain_text("1 team member who signs in with a password")
    _no_sideways_scroll(page, size["width"])
    page.get_by_role("link", name="Cancel").click()
    account.refresh_from_db()
    assert not account.require_totp

    page.get_by_role("button", name="Enable").click()
    page.get_by_role("button", name="Require the app").click()
    expect(page.get_by_role("status")).to_contain_text("Every team member now needs")
    account.refresh_from_db()
    assert account.require_totp

    page.get_by_role("button", name="Disable").click()
    assert heading(page) == "Stop requiring an authenticator app?"
    page.get_by_role("button", name="Stop requiring it").click()
    expect(page.get_by_role("status")).to_contain_text("email link again")
    account.refresh_from_db()
    assert not account.require_totp


@WIDTHS
def test_team_page_shows_pending_setup_and_the_rule_in_force(
    new_context, account, account_admin, member, sso_member, size
):
    secret = enroll_totp(account_admin)
    Account.objects.filter(pk=account.pk).update(require_totp=True)
    page = new_context(size).new_page()
    sign_in_user_with_app(page, account_admin, secret)
    page.goto("/settings/team/")
    member_row = page.get_by_role("row").filter(has_text=member.email)
    expect(member_row).to_contain_text("Set-up pending")
    expect(member_row).not_to_contain_text("Email link")
    expect(page.get_by_role("row").filter(has_text=sso_member.email)).to_contain_text(
        "Single sign-on"
    )
    expect(page.get_by_role("row").filter(has_text=account_admin.email)).to_contain_text(
        "Authenticator app"
    )
    add = page.locator("section").filter(has_text="Add a team member")
    expect(add).to_contain_text("Your team requires an authenticator app")
    expect(add).not_to_contain_text("sign in with an emailed link")

    Account.objects.filter(pk=account.pk).update(require_totp=False)
    page.reload()
    expect(page.get_by_role("row").filter(has_text=member.email)).to_contain_text("Email link")
    expect(add).to_contain_text("sign in with an emailed link or set up an authenticator app")


def test_security_log_names_the_browser(page, member):
    sign_in_with_link(page, member.email, PASSWORD)
    page.goto("/settings/personal/")
    cells = page.locator("table.events td[data-label='Browser']")
    expect(cells.first).to_have_text("Chrome on Linux")  # Playwright's headless Chromium
    assert not any("Mozilla" in text for text in cells.all_inner_texts())
    body = mail.outbox[0].body  # the sign-in link's email names it the same way
    assert re.search(r"Browser: Chrome on Linux", body), body


@WIDTHS
def test_team_security_log_names_the_browser_and_the_step(new_context, account_admin, size):
    page = new_context(size).new_page()
    sign_in_with_link(page, account_admin.email, PASSWORD)
    page.goto("/settings/security/")
    sign_in = page.locator("table.events tbody tr").filter(has_text="Signed in").first
    expect(sign_in.locator("td[data-label='What']")).to_have_text("Signed in (email link)")
    expect(sign_in.locator("td[data-label='Browser']")).to_have_text("Chrome on Linux")
    expect(page.locator("table.events")).not_to_contain_text("Mozilla")
    _no_sideways_scroll(page, size["width"])


def test_admin_user_list_fits_1280_with_dates_like_the_product(
    new_context, account, member, support_group
):
    from datetime import datetime, timezone

    from accounts.models import User
    from accounts.services import member_add

    support = User.objects.create_user("help@twofactor.test", PASSWORD, is_staff=True)
    support.groups.add(support_group)
    Account.objects.filter(pk=account.pk).update(name="Globex Corporation International")
    for i in range(3):
        member_add(
            account=account,
            email=f"firstname.lastname{i}@globex-corporation.example",
            name=f"Firstname Lastname{i}",
        )
    when = datetime(2026, 3, 4, 5, 6, tzinfo=timezone.utc)
    User.objects.filter(pk=member.pk).update(last_login=when)

    page = new_context(DESKTOP).new_page()
    sign_in_with_link(page, support.email, PASSWORD)
    page.goto("/admin/accounts/user/")
    _no_sideways_scroll(page, DESKTOP["width"])
    table = page.locator("#result_list")
    assert table.bounding_box()["x"] + table.bounding_box()["width"] <= DESKTOP["width"]
    for column in ("Member", "Last sign-in", "Second factor"):
        expect(table.get_by_role("columnheader", name=column)).to_be_visible()
    row = table.get_by_role("row").filter(has_text=member.email)
    expect(row).to_contain_text("2026-03-04 05:06 UTC")
    expect(row).to_contain_text("Email link")
    expect(table.get_by_role("row").filter(has_text="firstname.lastname0")).to_contain_text("Never")

    page.get_by_role("link", name=member.email).click()
    expect(page.locator("main, #content").first).to_contain_text("2026-03-04 05:06 UTC")


@WIDTHS
def test_invitation_names_team_and_email_and_signs_straight_into_setup(
    new_context, account, account_admin, size
):
    from accounts.services import member_invite
    from tests.conftest import AUDIT

    member_invite(audit=AUDIT, account=account, email="new@acme.test", by=account_admin)
    Account.objects.filter(pk=account.pk).update(require_totp=True)
    invite = link_in_email("new@acme.test", pattern=r"/invite/\S+/")
    mail.outbox.clear()

    page = new_context(size).new_page()
    page.goto(invite)
    assert heading(page) == "Welcome to Acme"
    expect(page.locator("main")).to_contain_text("Choose a password for new@acme.test")
    password = page.get_by_label("Password", exact=True)
    expect(password).to_have_accessible_description(re.compile(r"^At least 10 characters"))
    expect(page.get_by_text("At least 10 characters")).to_have_count(1)
    _no_sideways_scroll(page, size["width"])

    # Each error on its own field, announced.
    password.fill("short")
    page.get_by_label("Confirm password").fill("different")
    page.get_by_role("button", name="Save password and sign in").click()
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_new_password1_error")).to_contain_text("too short")
    expect(page.locator("#id_new_password2_error")).to_contain_text("doesn't match")
    _no_sideways_scroll(page, size["width"])

    page.get_by_label("Password", exact=True).fill("a long enough passphrase 9")
    page.get_by_label("Confirm password").fill("a long enough passphrase 9")
    page.get_by_role("button", name="Save password and sign in").click()
    # Signed in, and straight on to the set-up the team requires; no sign-in link was sent.
    page.wait_for_url("**/two-factor/setup/")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert not [m for m in mail.outbox if "/login/link/" in m.body]


@WIDTHS
def test_rate_limited_resend_says_which_limit_how_long_and_the_link_still_works(
    new_context, member, settings, size
):
    settings.RATELIMIT_RESEND = "1/h"
    page = new_context(size).new_page()
    page.goto("/login/")
    page.get_by_label("Email").fill(member.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/login/email-sent/")
    page.get_by_role("button", name="Resend the link").click()
    page.get_by_role("button", name="Resend the link").click()
    assert heading(page) == "Too many attempts"
    main = page.locator("main")
    expect(main).to_contain_text("You asked for a new sign-in link too many times.")
    expect(main).to_contain_text(re.compile(r"Try again in (\d+ minutes?|less than a minute)\."))
    expect(main).to_contain_text(re.compile(r"The last link we sent still works until \d\d:\d\d"))
    _no_sideways_scroll(page, size["width"])

    # And it does.
    page.goto(link_in_email(member.email))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    assert "Welcome" in heading(page)
