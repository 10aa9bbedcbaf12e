"""Browser journeys: Debian's Chromium driven by Playwright against a live server.

Emails land in Django's locmem outbox (the live server runs in a thread of this process), and
SITE_URL is the live server's address, so the links in them open on it. Every page a test
visits is checked for Content-Security-Policy violations and script errors.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core import mail

CHROMIUM = Path("/usr/bin/chromium")
# Never let Chromium reach for Google's services: this machine has no network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


# The signed-in home page, its address and nothing else: the glob "**/" matches every page
# whose address ends in a slash, so waiting for it returned at once on the page a click was
# made on (/login/link/, /login/code/), before the sign-in had moved on.
HOME = re.compile(r"^https?://[^/]+/(?:\?.*)?$")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        reason = (
            f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)"
        )
        if in_ci():
            pytest.fail(f"Browser tests cannot run in CI: {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls that tests and
    # fixtures make between browser steps are still plain synchronous calls. Only while the
    # browser runs, so the rest of the suite keeps Django's check.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def site(live_server, settings) -> str:
    """The live server's address; links in emails point at it and emails are captured."""
    settings.SITE_URL = live_server.url
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    return live_server.url


class PageErrors:
    """Console errors (CSP violations among them) and uncaught exceptions of a context."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _console(self, message) -> None:
        text = message.text
        # A refusal page answers with a 4xx on purpose; Chromium logs each as a failed load.
        if message.type == "error" and "Failed to load resource" not in text:
            self.errors.append(text)


@pytest.fixture
def new_context(browser, site):
    """Make browser contexts (separate browsers, as far as cookies go); all closed at the end,
    and none may have logged a script error or a CSP violation."""
    contexts = []
    errors = PageErrors()

    def make(viewport: dict | None = None, **kwargs):
        context = browser.new_context(
            base_url=site, viewport=viewport or DESKTOP, locale="en-US", **kwargs
        )
        context.set_default_timeout(10_000)
        context.on("page", errors.watch)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert not errors.errors, errors.errors


@pytest.fixture
def context(new_context):
    return new_context()


@pytest.fixture
def page(context):
    return context.new_page()


# --- Helpers the journeys share ---------------------------------------------------------------


def emails_to(address: str) -> list:
    return [message for message in mail.outbox if address in message.to]


def link_in_email(address: str, pattern: str = r"/login/link/[^/\s]+/") -> str:
    """The newest matching link emailed to ``address``."""
    messages = emails_to(address)
    assert messages, f"no email to {address}; outbox: {[m.subject for m in mail.outbox]}"
    match = re.search(r"https?://\S+" + pattern, messages[-1].body)
    assert match, messages[-1].body
    return match.group(0)


def password_step(page, email: str, password: str) -> None:
    page.goto("/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Continue").click()


def sign_in_with_link(page, email: str, password: str) -> None:
    """Password, then the emailed link opened in the same browser, then Sign in."""
    password_step(page, email, password)
    page.wait_for_url("**/login/email-sent/")
    page.goto(link_in_email(email))
    page.wait_for_url("**/login/link/")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login/" not in url)


def sign_in_with_code(page, email: str, code: str) -> None:
    """Password, then ``code`` at the code step (its field has the focus)."""
    from playwright.sync_api import expect

    from tests.conftest import PASSWORD

    password_step(page, email, PASSWORD)
    page.wait_for_url("**/login/code/")
    field = page.get_by_label("Authentication code")
    expect(field).to_be_focused()
    field.fill(code)
    page.get_by_role("button", name="Verify").click()


def sign_in_with_app(page, email: str, secret: str) -> None:
    """Sign in with the current code of the app whose key is ``secret``, to the page after."""
    import pyotp

    sign_in_with_code(page, email, pyotp.TOTP(secret).now())
    page.wait_for_url(lambda url: "/login/" not in url)


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out", exact=True).click()
    page.wait_for_url("**/login/")


def heading(page) -> str:
    return page.get_by_role("heading", level=1).inner_text()


@pytest.fixture
def screenshot_dir() -> Iterator[Path]:
    path = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    yield path


@pytest.fixture
def support_group(db):
    """The Support group its migration makes; browser tests flush the database between tests
    (the live server needs committed data), which takes the migration's rows with it."""
    from importlib import import_module

    from django.contrib.auth.models import Group, Permission

    migration = import_module("accounts.migrations.0003_support_group")
    group, _created = Group.objects.get_or_create(name=migration.SUPPORT_GROUP)
    for app_label, codename in migration.SUPPORT_PERMISSIONS:
        group.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return group
