"""Every main page at desktop and phone width.

In the normal suite this checks that each page renders without a CSP violation or script
error and fits a 390 px phone screen without sideways scrolling. With SCREENSHOTS=1 (what
`make screenshots` sets) it also saves a PNG of each page into docs/screenshots/.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from django.utils import timezone

from accounts.models import SignInLink, User
from accounts.services import member_add
from tests.browser.conftest import (
    DESKTOP,
    HOME,
    PHONE,
    heading,
    link_in_email,
    password_step,
    sign_in_with_app,
    sign_in_with_link,
)
from tests.conftest import PASSWORD, enroll_totp

pytestmark = pytest.mark.browser

SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}
# Form controls a screen reader would announce without a name.
UNLABELLED = """() => [...document.querySelectorAll("input, select, textarea")]
  .filter((el) => !["hidden", "submit", "button", "reset"].includes(el.type))
  .filter((el) => !(el.labels && el.labels.length))
  .filter((el) => !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby"))
  .map((el) => el.name || el.id || el.outerHTML)"""
# The elements that stick out past the right edge of the screen, to say what to fix.
WIDEST = """() => [...document.querySelectorAll("body *")]
  .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
  .filter((el) => !el.closest(".table-wrap"))
  .slice(0, 5)
  .map((el) => el.tagName.toLowerCase() + (el.className ? "." + el.className : ""))"""


class Camera:
    def __init__(self, folder: Path | None, suffix: str, width: int) -> None:
        self.folder, self.suffix, self.width = folder, suffix, width
        self.taken: list[str] = []

    def __call__(self, page, name: str, element: str | None = None) -> None:
        """Check the page and save it whole, or only ``element`` (a CSS selector) of it."""
        page.wait_for_load_state("load")
        overflow = page.evaluate("document.documentElement.scrollWidth")
        if overflow > self.width:
            wide = page.evaluate(WIDEST)
            raise AssertionError(f"{name}: {overflow}px wide at a {self.width}px screen: {wide}")
        assert page.evaluate(UNLABELLED) == [], f"{name}: inputs without a label"
        assert page.locator("h1").count() == 1, f"{name}: one h1 per page"
        assert page.evaluate("document.documentElement.lang"), f"{name}: no lang"
        self.taken.append(name)
        if self.folder is not None:
            path = self.folder / f"{name}-{self.suffix}.png"
            if element:
                page.locator(element).screenshot(path=str(path), animations="disabled")
            else:
                page.screenshot(path=str(path), full_page=True, animations="disabled")


@pytest.fixture
def camera(request, tmp_path):
    name = request.node.callspec.params["viewport"]
    folder = SCREENSHOT_DIR if os.environ.get("SCREENSHOTS") == "1" else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    return Camera(folder, name, VIEWPORTS[name]["width"])


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_every_main_page(
    viewport, camera, settings, new_context, account_admin, member, sso_member
):
    size = VIEWPORTS[viewport]
    account_admin.name = "Ada Admin"
    account_admin.save(update_fields=["name"])
    tom = member_add(
        account=member.account, email="tom@acme.test", password=PASSWORD, name="Tom Totp"
    )
    enroll_totp(tom)
    User.objects.filter(pk=tom.pk).update(last_login=timezone.now() - timedelta(hours=3))

    # Signing in with the emailed link.
    page = new_context(size).new_page()
    page.goto("/login/")
    camera(page, "login")
    password_step(page, member.email, "not the password")
    camera(page, "login-error")
    password_step(page, member.email, PASSWORD)
    page.wait_for_url("**/login/email-sent/")
    camera(page, "email-sent")
    link = link_in_email(member.email)
    page.goto(link)
    camera(page, "link-landing")

    elsewhere = new_context(size).new_page()
    elsewhere.goto(link)
    camera(elsewhere, "link-other-browser")

    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(HOME)
    camera(page, "home")
    page.goto("/settings/personal/")
    camera(page, "personal")

    # Setting up the app.
    page.get_by_role("link", name="Set up an authenticator app").click()
    camera(page, "enroll-start")
    page.get_by_role("button", name="Get started").click()
    page.wait_for_url("**/setup/codes/")
    camera(page, "enroll-codes")
    page.emulate_media(media="print")
    camera(page, "enroll-codes-printed")
    page.emulate_media(media="screen")
    page.get_by_label("I saved my recovery codes").check()
    page.get_by_role("button", name="Next").click()
    page.wait_for_url("**/setup/app/")
    camera(page, "enroll-app")
    page.get_by_label("Authentication code").fill("123")
    page.get_by_role("button", name="Verify and turn on").click()
    camera(page, "enroll-app-error")
    key = page.locator("#manual-key").inner_text().replace(" ", "")
    page.get_by_label("Authentication code").fill(pyotp.TOTP(key).now())
    page.get_by_role("button", name="Verify and turn on").click()
    page.wait_for_url("**/setup/done/")
    camera(page, "enroll-done")
    page.get_by_role("link", name="Manage").click()
    camera(page, "manage")
    page.get_by_role("link", name="See recovery codes").click()
    if "/confirm/" in page.url:  # asks for the password again when the sign-in is not fresh
        camera(page, "reauth")
        page.get_by_label("Password or authentication code").fill(PASSWORD)
        page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/two-factor/codes/")
    camera(page, "recovery-codes")

    # The code step, and its refusals.
    code_page = new_context(size).new_page()
    password_step(code_page, tom.email, PASSWORD)
    code_page.wait_for_url("**/login/code/")
    camera(code_page, "code-step")
    code_page.get_by_label("Authentication code").fill("000000")
    code_page.get_by_role("button", name="Verify").click()
    camera(code_page, "code-wrong")
    User.objects.filter(pk=tom.pk).update(code_locked_until=timezone.now() + timedelta(minutes=15))
    code_page.goto("/login/code/")
    assert heading(code_page) == "Sign-in is locked for now"
    camera(code_page, "locked-out")
    User.objects.filter(pk=tom.pk).update(code_locked_until=None, failed_code_count=7)
    recovery_page = new_context(size).new_page()
    password_step(recovery_page, tom.email, PASSWORD)
    recovery_page.get_by_role("button", name="Use a recovery code instead").click()
    recovery_page.wait_for_url("**/login/code/recovery/")
    camera(recovery_page, "recovery-code-step")
    recovery_page.get_by_label("Recovery code").fill("zzzzz-zzzzz")
    recovery_page.get_by_role("button", name="Verify").click()
    assert "2 tries left" in recovery_page.get_by_role("status").inner_text()
    camera(recovery_page, "recovery-code-wrong")

    expired = new_context(size).new_page()
    password_step(expired, sso_member.email, PASSWORD)  # SSO: answered like a wrong password
    password_step(expired, account_admin.email, PASSWORD)
    SignInLink.objects.filter(user=account_admin).update(expires_at=timezone.now())
    expired.goto(link_in_email(account_admin.email))
    assert heading(expired) == "This link has expired"
    camera(expired, "link-expired")
    settings.RATELIMIT_RESEND = "1/h"
    expired.goto("/login/email-sent/")
    for _ in range(2):
        expired.get_by_role("button", name="Resend the link").click()
    assert heading(expired) == "Too many attempts"
    camera(expired, "too-many-attempts")

    # Team and security pages, as an Account Admin.
    admin = new_context(size).new_page()
    sign_in_with_link(admin, account_admin.email, PASSWORD)
    admin.goto("/settings/team/")
    camera(admin, "team")
    admin.get_by_role("link", name=f"Remove {member.email}").click()
    camera(admin, "member-remove")
    admin.goto("/settings/security/")
    camera(admin, "security")

    page.goto("/settings/security/")  # the member: needs an admin
    assert heading(page) == "You can't open this page"
    camera(page, "forbidden")
    admin.goto("/no/such/page/")
    assert heading(admin) == "Page not found"
    camera(admin, "not-found")

    assert len(camera.taken) >= 25


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_pages_of_the_smoother_journeys(
    viewport, camera, new_context, account, account_admin, member, support_group
):
    """The pages issue 15 added or changed: set-up on the phone, forced set-up, the questions
    before far-reaching changes, the Team Members page under the requirement, the admin."""
    from accounts.models import Account

    size = VIEWPORTS[viewport]
    secret = enroll_totp(account_admin)
    account_admin.is_staff = True
    account_admin.save(update_fields=["is_staff"])
    account_admin.groups.add(support_group)
    admin = new_context(size).new_page()
    sign_in_with_app(admin, account_admin.email, secret)

    admin.goto("/settings/personal/two-factor/codes/")
    admin.get_by_role("link", name="Generate new recovery codes").click()
    camera(admin, "codes-regenerate-confirm")
    admin.goto("/settings/security/")
    admin.get_by_role("button", name="Enable").click()
    camera(admin, "requirement-on-confirm")
    admin.get_by_role("button", name="Require the app").click()
    admin.wait_for_url("**/settings/security/")
    admin.get_by_role("button", name="Disable").click()
    camera(admin, "requirement-off-confirm")
    admin.goto("/settings/team/")
    camera(admin, "team-required")
    admin.goto("/settings/personal/two-factor/remove/")
    camera(admin, "totp-remove-required")
    admin.goto("/admin/accounts/user/")
    camera(admin, "admin-users")

    # The member, held in set-up by the requirement: a nav with nothing that bounces back.
    page = new_context(size).new_page()
    sign_in_with_link(page, member.email, PASSWORD)
    page.wait_for_url("**/two-factor/setup/")
    camera(page, "enroll-start-required")
    page.get_by_role("button", name="Get started").click()
    page.get_by_label("I saved my recovery codes").check()
    page.get_by_role("button", name="Next").click()
    camera(page, "enroll-app-required")
    assert Account.objects.get(pk=account.pk).require_totp

    # An invitation: the team and the email named, the rules once, errors on their fields.
    from accounts.services import member_invite
    from tests.conftest import AUDIT

    member_invite(audit=AUDIT, account=account, email="nia@acme.test", by=account_admin)
    invited = new_context(size).new_page()
    invited.goto(link_in_email("nia@acme.test", pattern=r"/invite/\S+/"))
    camera(invited, "invite-accept")
    invited.get_by_label("Password", exact=True).fill("short")
    invited.get_by_label("Confirm password").fill("different")
    invited.get_by_role("button", name="Save password and sign in").click()
    camera(invited, "invite-accept-error")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_reset_and_passkey_setup_pages(viewport, camera, new_context, account, member):
    """The reset link's page (the rules once, errors on their fields, as the invitation) and
    forced set-up where the team accepts a passkey: its nav note, the key as step 2 of 2."""
    from accounts.models import Account
    from tests.passkeys.authenticator import chromium_authenticator as authenticator

    size = VIEWPORTS[viewport]
    page = new_context(size).new_page()
    page.goto("/password-reset/")
    page.get_by_label("Email").fill(member.email)
    page.get_by_role("button", name="Send the link").click()
    page.goto(link_in_email(member.email, pattern=r"/password-reset/[^/\s]+/[^/\s]+/"))
    camera(page, "password-reset-confirm")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Confirm password").fill("different")
    page.get_by_role("button", name="Save password").click()
    camera(page, "password-reset-confirm-error")

    Account.objects.filter(pk=account.pk).update(require_totp=True, accept_passkeys=True)
    page = new_context(size).new_page()
    authenticator(page)
    sign_in_with_link(page, member.email, PASSWORD)
    page.wait_for_url("**/two-factor/setup/")
    camera(page, "enroll-start-required-passkey")
    page.get_by_role("link", name="Add a passkey or security key instead").click()
    page.get_by_label("I saved my recovery codes").check()
    page.get_by_role("button", name="Next").click()
    page.wait_for_url("**/passkeys/add/")
    camera(page, "passkey-add-required")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_sso_pages(viewport, camera, settings, new_context, provider, account_admin, member):
    """The single sign-on pages: the Security page's section, /login/sso/, a refusal."""
    from accounts.sso.models import Domain
    from tests.sso.fixtures import connect

    settings.TWOFACTOR_SSO_ALLOW_HTTP_LOOPBACK = True
    size = VIEWPORTS[viewport]
    connect(account_admin.account, provider, site_url=settings.SITE_URL)
    Domain.objects.create(account=account_admin.account, domain="acme-europe.test")
    admin = new_context(size).new_page()
    sign_in_with_link(admin, account_admin.email, PASSWORD)
    admin.goto("/settings/security/")
    camera(admin, "sso-security-section", element="#sso")
    admin.goto("/settings/team/")
    admin.get_by_role("link", name=f"Switch to SSO {member.email}").click()
    camera(admin, "sso-convert")

    page = new_context(size).new_page()
    page.goto("/login/sso/")
    camera(page, "sso-login")
    page.get_by_label("Work email").fill("someone@elsewhere.test")
    page.get_by_role("button", name="Continue").click()
    camera(page, "sso-not-routed")
    page.get_by_label("Work email").fill("stranger@acme.test")
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/interaction/**")
    page.get_by_role("button", name="Sign in at the provider").click()
    page.wait_for_url("**/login/sso/callback/**")
    assert heading(page) == "We can't sign you in with single sign-on"
    camera(page, "sso-refused")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_passkey_pages(viewport, camera, new_context, member):
    """The key step of a sign-in and the list of keys (a key made by the tests' software
    authenticator: rendering the pages needs no browser authenticator)."""
    from tests.passkeys.conftest import add_passkey

    add_passkey(member, name="Work laptop")
    page = new_context(VIEWPORTS[viewport]).new_page()
    password_step(page, member.email, PASSWORD)
    page.wait_for_url("**/login/passkey/")
    camera(page, "passkey-step")
    # A member whose only factor is a key may use a recovery code, and go back to the key.
    page.get_by_role("button", name="Use a recovery code instead").click()
    page.wait_for_url("**/login/code/recovery/")
    assert page.get_by_role("button", name="Use your authenticator app instead").count() == 0
    camera(page, "recovery-code-passkey-only")
    page.get_by_role("button", name="Use a passkey or security key instead").click()
    page.wait_for_url("**/login/passkey/")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_trusted_browser_pages(viewport, camera, new_context, account_admin, member_with_totp):
    """The code step with "Trust this browser", the member's trusted browsers, the team's
    option on the Security page and the Account Admin's "End trusted browsers"."""

    page = new_context(VIEWPORTS[viewport]).new_page()
    password_step(page, member_with_totp.email, PASSWORD)
    page.wait_for_url("**/login/code/")
    page.get_by_label("Trust this browser for 30 days").check()
    camera(page, "code-step-trust")
    page.get_by_label("Authentication code").fill(pyotp.TOTP(member_with_totp.totp_secret).now())
    page.get_by_role("button", name="Verify").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    page.goto("/settings/personal/")
    camera(page, "trusted-browsers", element="#trusted-browsers")
    admin = new_context(VIEWPORTS[viewport]).new_page()
    admin_secret = enroll_totp(account_admin)
    sign_in_with_app(admin, account_admin.email, admin_secret)
    admin.goto("/settings/security/")
    camera(admin, "trust-security-section", element="section#trusted-browsers")
    admin.goto(f"/settings/team/{member_with_totp.pk}/end-trust/")
    camera(admin, "member-trust-end")


def test_pages_fit_at_200_percent_zoom(new_context, account_admin, member):
    """A 1280 px screen at 200% zoom lays out like a 640 px one: nothing scrolls sideways."""
    camera = Camera(None, "zoom", 640)
    page = new_context({"width": 640, "height": 400}).new_page()
    page.goto("/login/")
    camera(page, "login")
    sign_in_with_link(page, account_admin.email, PASSWORD)
    for path in ("/", "/settings/personal/", "/settings/team/", "/settings/security/"):
        page.goto(path)
        camera(page, path)
    page.goto("/settings/personal/two-factor/setup/")
    page.get_by_role("button", name="Get started").click()
    camera(page, "codes")
    page.get_by_label("I saved my recovery codes").check()
    page.get_by_role("button", name="Next").click()
    camera(page, "qr")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_rollout_pages(viewport, camera, new_context, account, account_admin, member):
    """A requirement scheduled for a date ahead: the Security page's roll-out panel, and the
    banner every page shows a member who has not set up yet."""
    from security.policy import requirement_set
    from tests.conftest import AUDIT

    size = VIEWPORTS[viewport]
    enroll_totp(member_add(account=account, email="omar@acme.test", name="Omar Okafor"))
    member_add(account=account, email="lena@acme.test", name="Lena Lund")
    secret = enroll_totp(account_admin)
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    requirement_set(
        audit=AUDIT,
        account=account,
        admin=account_admin,
        required=True,
        starts_at=today + timedelta(days=14),
        grace_days=3,
    )
    admin = new_context(size).new_page()
    sign_in_with_app(admin, account_admin.email, secret)
    admin.goto("/settings/security/")
    camera(admin, "rollout", element="#rollout")

    page = new_context(size).new_page()
    sign_in_with_link(page, member.email, PASSWORD)
    assert page.locator(".setup-banner").is_visible()
    camera(page, "setup-banner")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_sessions_pages(viewport, camera, new_context, account_admin, member):
    """Where you're signed in (two browsers), and an admin's question before signing a member
    out everywhere."""
    size = VIEWPORTS[viewport]
    here, elsewhere = new_context(size).new_page(), new_context(size).new_page()
    for page in (elsewhere, here):
        sign_in_with_link(page, member.email, PASSWORD)
    here.goto("/settings/personal/")
    assert here.locator("table.sessions tbody tr").count() == 2
    camera(here, "sessions", element="section[aria-labelledby=sessions-heading]")
    admin = new_context(size).new_page()
    sign_in_with_link(admin, account_admin.email, PASSWORD)
    admin.goto("/settings/team/")
    admin.get_by_role("link", name=f"Sign out everywhere {member.email}").click()
    assert heading(admin) == f"Sign {member.email} out everywhere?"
    camera(admin, "member-sessions-end")
