"""Where you're signed in, in Chromium: two browsers signed in as one member; one signs the
other out, which is signed out at its next request; "Sign out everywhere else" keeps this one."""

from __future__ import annotations

import pytest

from tests.browser.conftest import sign_in_with_link
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

PERSONAL = "/settings/personal/"


def signed_in_pages(new_context, email: str, count: int) -> list:
    pages = []
    for _ in range(count):
        page = new_context().new_page()
        sign_in_with_link(page, email, PASSWORD)
        pages.append(page)
    return pages


def session_rows(page):
    return page.locator("table.sessions tbody tr")


def test_one_browser_signs_the_other_out(new_context, member):
    here, elsewhere = signed_in_pages(new_context, member.email, 2)
    here.goto(PERSONAL)
    rows = session_rows(here)
    assert rows.count() == 2
    assert "this browser" in rows.nth(0).inner_text()
    other = rows.filter(has_not_text="this browser")
    other.get_by_role("button", name="Sign out").click()
    here.wait_for_url(f"**{PERSONAL}")
    assert "That session is signed out." in here.content()
    assert session_rows(here).count() == 1

    elsewhere.goto(PERSONAL)  # its next request
    elsewhere.wait_for_url("**/login/**")
    here.goto(PERSONAL)
    assert here.url.endswith(PERSONAL)


def test_sign_out_everywhere_else_keeps_this_browser(new_context, member):
    here, second, third = signed_in_pages(new_context, member.email, 3)
    second.goto(PERSONAL)
    assert session_rows(second).count() == 3
    second.get_by_role("button", name="Sign out everywhere else").click()
    second.wait_for_url(f"**{PERSONAL}")
    assert "You're signed out everywhere else." in second.content()
    assert session_rows(second).count() == 1
    for page in (here, third):
        page.goto(PERSONAL)
        page.wait_for_url("**/login/**")
    second.reload()
    assert second.url.endswith(PERSONAL)
    assert "this browser" in session_rows(second).nth(0).inner_text()
