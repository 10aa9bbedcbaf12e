"""A member signs in: the emailed link, the same link in another browser, the keyboard only."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import SignInLink
from tests.browser.conftest import (
    HOME,
    heading,
    link_in_email,
    password_step,
    sign_in_with_link,
    sign_out,
)
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_member_signs_in_with_emailed_link(page, member):
    password_step(page, member.email, PASSWORD)

    page.wait_for_url("**/login/email-sent/")
    assert heading(page) == "Check your email"
    expect(page.get_by_text(member.email)).to_be_visible()
    link = link_in_email(member.email)

    page.goto(link)
    page.wait_for_url("**/login/link/")  # the token left the address bar
    assert heading(page) == "Finish signing in"
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url(HOME)
    assert "Welcome" in heading(page)
    expect(page.get_by_text(member.email).first).to_be_visible()


def test_wrong_password_error_is_next_to_the_form_and_announced(page, member):
    password_step(page, member.email, "not the password")

    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("don't match")
    assert page.url.endswith("/login/")


def test_link_in_another_browser_is_refused_then_works_in_the_first(new_context, member):
    first = new_context().new_page()
    password_step(first, member.email, PASSWORD)
    first.wait_for_url("**/login/email-sent/")
    link = link_in_email(member.email)

    other = new_context().new_page()
    response = other.goto(link)
    other.wait_for_url("**/login/link/")
    assert heading(other) == "Open this link in the same browser"
    assert response.status == 403
    expect(other.get_by_role("button", name="Sign in")).to_have_count(0)

    first.goto(link)
    first.get_by_role("button", name="Sign in").click()
    first.wait_for_url(HOME)
    assert "Welcome" in heading(first)

    # Used once: the same link now says so, in either browser.
    other.goto(link)
    assert heading(other) != "Finish signing in"


def test_link_after_signing_out_offers_a_new_sign_in(page, member):
    sign_in_with_link(page, member.email, PASSWORD)
    link = link_in_email(member.email)
    sign_out(page)

    page.goto(link)  # this browser's sign-in is over, so the link is not for it any more
    assert heading(page) == "Open this link in the same browser"
    expect(page.get_by_role("button", name="Sign in")).to_have_count(0)
    page.get_by_role("link", name="Sign in again").click()
    page.wait_for_url("**/login/")


def test_expired_link_says_so(page, member):
    password_step(page, member.email, PASSWORD)
    page.wait_for_url("**/login/email-sent/")
    SignInLink.objects.filter(user=member).update(expires_at=timezone.now())

    response = page.goto(link_in_email(member.email))
    assert response.status == 410
    assert heading(page) == "This link has expired"
    page.get_by_role("button", name="Sign in again").click()
    page.wait_for_url("**/login/")
    expect(page.get_by_label("Email")).to_be_focused()


def test_resend_retires_the_older_link(page, member):
    password_step(page, member.email, PASSWORD)
    page.wait_for_url("**/login/email-sent/")
    older = link_in_email(member.email)
    page.get_by_role("button", name="Resend the link").click()
    expect(page.get_by_role("status")).to_contain_text("We sent a new link")
    newer = link_in_email(member.email)
    assert newer != older

    page.goto(older)
    assert heading(page) == "A newer link was sent"
    page.goto(newer)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(HOME)


def test_sign_in_with_keyboard_only(page, member):
    page.goto("/login/")
    # The email field has autofocus; from there Tab and Enter are all it takes.
    assert page.evaluate("document.activeElement.name") == "email"
    page.keyboard.type(member.email)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "password"
    # The keyboard focus is visible.
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/login/email-sent/")

    page.goto(link_in_email(member.email))
    page.wait_for_url("**/login/link/")
    # The Sign in button has autofocus, so Enter signs in.
    assert page.evaluate("document.activeElement.textContent.trim()") == "Sign in"
    page.keyboard.press("Enter")
    page.wait_for_url(HOME)
    assert "Welcome" in heading(page)


def test_skip_link_is_the_first_stop_and_shows_when_focused(page):
    page.goto("/login/password-reset-nowhere/")  # a page without autofocus: the 404
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    box = skip.bounding_box()
    assert box and box["x"] >= 0 and box["y"] >= 0  # moved on screen when focused
