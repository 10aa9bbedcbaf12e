"""Single sign-on in Chromium, against the real OpenID provider and a loopback DNS server:
an Account Admin connects the provider on the Security page, verifies the domain, switches a
member to SSO; the member signs in through the provider, with no second step of ours."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from accounts.sso.models import Domain
from security.models import SecurityEvent
from tests.browser.conftest import heading, password_step, sign_in_with_link
from tests.conftest import PASSWORD
from tests.sso.fixtures import connect

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _loopback_provider(settings):
    settings.TWOFACTOR_SSO_ALLOW_HTTP_LOOPBACK = True


def sign_in_at_provider(page, email: str | None = None) -> None:
    """What a person does on the provider's page (ours is a plain form)."""
    page.wait_for_url(re.compile(r".*/interaction/.*"))
    if email:
        page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Sign in at the provider").click()


def test_admin_connects_provider_and_member_signs_in_with_sso(
    new_context, site, provider, dns_zone, account_admin, member
):
    client_id, secret = provider.register(f"{site}/login/sso/callback/")
    admin = new_context().new_page()
    sign_in_with_link(admin, account_admin.email, PASSWORD)
    admin.goto("/settings/security/")
    section = admin.locator("#sso")
    expect(section.locator("#sso-redirect-uri")).to_have_text(f"{site}/login/sso/callback/")

    section.get_by_label("Issuer URL").fill(provider.issuer)
    section.get_by_label("Client ID").fill(client_id)
    section.get_by_label("Client secret").fill(secret)
    section.get_by_label("Single sign-on is on").check()
    section.get_by_role("button", name="Save single sign-on").click()
    expect(admin.get_by_role("status")).to_contain_text("Single sign-on settings saved.")
    expect(admin.get_by_label("Client secret")).to_have_value("")  # never shown again

    admin.get_by_role("button", name="Test connection").click()
    expect(admin.get_by_role("status")).to_contain_text(f"Connected to {provider.issuer}")

    admin.get_by_label("Email domain").fill("acme.test")
    admin.get_by_role("button", name="Add domain").click()
    record = admin.locator(".txt-record").first.inner_text()
    assert record == Domain.objects.get(domain="acme.test").txt_value
    admin.get_by_role("button", name="Verify acme.test").click()
    expect(admin.get_by_role("alert").or_(admin.get_by_role("status"))).to_contain_text(
        "We didn't find the TXT record"
    )
    dns_zone.txt["acme.test"] = [record]
    admin.get_by_role("button", name="Verify acme.test").click()
    expect(admin.get_by_role("status")).to_contain_text("acme.test is verified.")
    expect(admin.locator("#sso")).to_contain_text("Addresses at your verified domains sign in")

    # Switch the password member to SSO on Team Members.
    admin.goto("/settings/team/")
    admin.get_by_role("link", name=f"Switch to SSO {member.email}").click()
    admin.get_by_role("button", name="Switch to single sign-on").click()
    row = admin.get_by_role("row").filter(has_text=member.email)
    expect(row).to_contain_text("Single sign-on")

    # The member signs in through the provider: no link, no code.
    page = new_context().new_page()
    page.goto("/login/")
    page.get_by_role("link", name="Sign in with SSO").click()
    page.get_by_label("Work email").fill(member.email)
    page.get_by_role("button", name="Continue").click()
    sign_in_at_provider(page)  # the provider got our login_hint: the email is filled in
    page.wait_for_url(f"{site}/")
    assert heading(page) != "Sign in"
    expect(page.locator(".who")).to_have_text(member.email)
    page.goto("/settings/personal/")
    expect(page.get_by_text("Single sign-on").first).to_be_visible()
    event = SecurityEvent.objects.filter(kind="sign_in", user=member).get()
    assert event.detail == {"method": "sso", "issuer": provider.issuer}


def test_password_form_of_an_sso_domain_goes_to_the_provider(
    new_context, site, provider, account, sso_member
):
    """The POST's answer leads to the provider without tripping CSP form-action 'self'."""
    connect(account, provider, site_url=site)
    page = new_context().new_page()
    password_step(page, sso_member.email, "whatever they type")
    sign_in_at_provider(page)
    page.wait_for_url(f"{site}/")
    assert User.objects.get(pk=sso_member.pk).last_login is not None


def test_refusal_is_a_clear_page_and_no_session(new_context, site, provider, account):
    connect(account, provider, site_url=site)
    page = new_context().new_page()
    page.goto("/login/sso/")
    page.get_by_label("Work email").fill("stranger@acme.test")
    page.get_by_role("button", name="Continue").click()
    sign_in_at_provider(page)
    page.wait_for_url("**/login/sso/callback/**")
    assert heading(page) == "We can't sign you in with single sign-on"
    expect(page.get_by_text("isn't a member of Acme")).to_be_visible()
    page.goto("/")
    page.wait_for_url("**/login/**")
