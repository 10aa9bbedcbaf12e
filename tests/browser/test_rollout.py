"""Requiring the app from a date, in Chromium: the admin schedules it on the Security page;
until the date a member sees the banner on every page and goes on working; from it they are
sent to set-up. The clock fixture moves time; nothing sleeps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser.conftest import sign_in_with_app, sign_in_with_link
from tests.conftest import PASSWORD, enroll_totp

pytestmark = pytest.mark.browser


def test_rollout_banner_until_the_date_then_forced_set_up(
    clock, new_context, account_admin, member
):
    day = timezone.now().date() + timedelta(days=3)
    secret = enroll_totp(account_admin)
    admin = new_context().new_page()
    sign_in_with_app(admin, account_admin.email, secret)
    admin.goto("/settings/security/")
    admin.get_by_label("From a date", exact=False).check()
    admin.get_by_label("Starting on (UTC)").fill(day.isoformat())
    admin.get_by_role("button", name="Enable").click()
    admin.get_by_text("they see a reminder on every page").wait_for()
    admin.get_by_role("button", name="Require the app").click()
    admin.wait_for_url("**/settings/security/")
    panel = admin.locator("#rollout")
    assert f"Starts {day:%-d %B %Y}" in panel.inner_text()
    assert "1 of 2 members set up" in panel.inner_text()
    assert member.email in panel.inner_text()

    page = new_context().new_page()
    sign_in_with_link(page, member.email, PASSWORD)
    banner = page.locator(".setup-banner")
    assert f"Your team requires an authenticator app from {day:%-d %B %Y}" in banner.inner_text()
    page.get_by_role("link", name="Team Members", exact=True).click()
    page.wait_for_url("**/settings/team/")
    assert page.locator(".setup-banner").is_visible()
    page.get_by_role("link", name="set it up now").click()
    page.wait_for_url("**/two-factor/setup/")

    clock.advance(days=3)  # the date came (the session has ended by then too)
    later = new_context().new_page()
    sign_in_with_link(later, member.email, PASSWORD)
    later.wait_for_url("**/two-factor/setup/")
    later.goto("/settings/team/")
    later.wait_for_url("**/two-factor/setup/")
    assert later.locator(".setup-banner").count() == 0
