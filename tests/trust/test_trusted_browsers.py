"""Trusted browsers: ticked at the second step, they skip it at the next sign-ins (the
password is still asked), never past a locked code step, and end with every change to how
the member signs in."""

from __future__ import annotations

import datetime
from http import HTTPStatus

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import TrustedBrowser, User
from accounts.services import member_invite
from security.models import SecurityEvent
from security.policy import requirement_set
from tests.conftest import (
    AUDIT,
    PASSWORD,
    enroll_totp,
    is_signed_in,
    link_from_outbox,
    password_step,
    path_of,
)
from tests.security.conftest import code_for, code_post, reauth_expired

COOKIE = settings.TWOFACTOR_TRUSTED_BROWSER_COOKIE_NAME
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"


def _trusting_sign_in(client, user, clock):
    password_step(client, user.email)
    response = code_post(client, code_for(user, clock=clock), trust="on")
    assert response.status_code == HTTPStatus.FOUND
    return response


def _signed_out_and_in(client, user):
    client.post(reverse("accounts:logout"))
    return password_step(client, user.email)


def test_code_step_offers_trust_for_the_teams_days(client, member_with_totp):
    password_step(client, member_with_totp.email)
    page = client.get(reverse("accounts:login-code")).content.decode()
    assert "Trust this browser for 30 days" in page


def test_trusted_browser_skips_the_second_step_and_still_asks_the_password(
    client, member_with_totp, clock
):
    client.defaults["HTTP_USER_AGENT"] = FIREFOX
    response = _trusting_sign_in(client, member_with_totp, clock)
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    browser = TrustedBrowser.objects.get(user=member_with_totp)
    assert browser.name == "Firefox on Windows"
    assert cookie.value not in browser.token_hash  # only a digest is stored
    client.post(reverse("accounts:logout"))
    assert password_step(client, member_with_totp.email, "wrong").status_code == 400
    response = password_step(client, member_with_totp.email)
    assert response.url == reverse("home")
    assert is_signed_in(client)
    event = SecurityEvent.objects.filter(kind="sign_in").first()
    assert event.detail == {"method": "trusted_browser"}


def test_another_browser_is_still_asked(client, member_with_totp, clock):
    _trusting_sign_in(client, member_with_totp, clock)
    other = Client()
    assert password_step(other, member_with_totp.email).url == reverse("accounts:login-code")
    assert not is_signed_in(other)


def test_without_the_tick_nothing_is_trusted(client, member_with_totp, clock):
    password_step(client, member_with_totp.email)
    code_post(client, code_for(member_with_totp, clock=clock))
    assert not TrustedBrowser.objects.exists()
    assert _signed_out_and_in(client, member_with_totp).url == reverse("accounts:login-code")


def test_a_locked_code_step_is_not_bypassed_by_a_trust(client, member_with_totp, clock):
    _trusting_sign_in(client, member_with_totp, clock)
    until = timezone.now() + datetime.timedelta(minutes=15)
    User.objects.filter(pk=member_with_totp.pk).update(
        failed_code_count=10, code_locked_until=until
    )
    response = _signed_out_and_in(client, member_with_totp)
    assert response.url == reverse("accounts:login-code")
    assert not is_signed_in(client)
    assert client.get(reverse("accounts:login-code")).status_code == HTTPStatus.TOO_MANY_REQUESTS
    row = User.objects.get(pk=member_with_totp.pk)
    assert (row.failed_code_count, row.code_locked_until) == (10, until)


def test_a_sign_in_through_trust_does_not_clear_a_run_of_wrong_codes(
    client, member_with_totp, clock
):
    _trusting_sign_in(client, member_with_totp, clock)
    User.objects.filter(pk=member_with_totp.pk).update(failed_code_count=9)
    assert _signed_out_and_in(client, member_with_totp).url == reverse("home")
    assert User.objects.get(pk=member_with_totp.pk).failed_code_count == 9


def test_a_trust_older_than_the_teams_days_does_not_skip(client, member_with_totp, clock):
    _trusting_sign_in(client, member_with_totp, clock)
    clock.advance(hours=24 * 30 + 1)
    assert _signed_out_and_in(client, member_with_totp).url == reverse("accounts:login-code")


def test_no_trust_from_a_forged_field_when_the_team_turned_it_off(
    client, member_with_totp, account, clock
):
    account.trust_browsers = False
    account.save()
    password_step(client, member_with_totp.email)
    page = client.get(reverse("accounts:login-code")).content.decode()
    assert "Trust this browser" not in page
    code_post(client, code_for(member_with_totp, clock=clock), trust="on")
    assert not TrustedBrowser.objects.exists()


def test_no_trust_when_the_team_turned_it_off_during_the_sign_in(
    client, member_with_totp, account, clock
):
    password_step(client, member_with_totp.email)
    account.trust_browsers = False
    account.save()
    code_post(client, code_for(member_with_totp, clock=clock), trust="on")
    assert not TrustedBrowser.objects.exists()


def test_no_trust_from_a_forged_field_at_invitation(client, account_admin):
    member, _sent = member_invite(
        audit=AUDIT, account=account_admin.account, email="new@acme.test", by=account_admin
    )
    body = mail.outbox[-1].body
    url = path_of(next(w for w in body.split() if "/invite/" in w))
    form = client.get(url)
    new = "a brand new passphrase 42"
    client.post(form.url, {"new_password1": new, "new_password2": new, "trust": "on"})
    assert is_signed_in(client)
    assert not TrustedBrowser.objects.exists()
    assert COOKIE not in client.cookies


def test_no_trust_for_a_member_who_must_set_up_the_app(client, member, account, account_admin):
    enroll_totp(account_admin)
    requirement_set(audit=AUDIT, account=account, admin=account_admin, required=True)
    password_step(client, member.email)
    assert (
        "Trust this browser"
        not in client.get(reverse("accounts:login-email-sent")).content.decode()
    )
    client.get(path_of(link_from_outbox()))
    assert "Trust this browser" not in client.get(reverse("accounts:login-link")).content.decode()
    client.post(reverse("accounts:login-link"), {"trust": "on"})
    assert not TrustedBrowser.objects.exists()


def test_a_trust_does_not_skip_set_up_for_a_member_who_must_enroll(
    client, member, account, account_admin
):
    password_step(client, member.email)
    client.get(path_of(link_from_outbox()))
    client.post(reverse("accounts:login-link"), {"trust": "on"})
    assert TrustedBrowser.objects.filter(user=member).exists()
    # The requirement is on while the trust lives (as if its end had been missed).
    type(account).objects.filter(pk=account.pk).update(require_totp=True)
    response = _signed_out_and_in(client, member)
    assert response.url == reverse("accounts:login-email-sent")


def test_email_link_landing_offers_and_makes_a_trust(client, member):
    password_step(client, member.email)
    client.get(path_of(link_from_outbox()))
    assert (
        "Trust this browser for 30 days"
        in client.get(reverse("accounts:login-link")).content.decode()
    )
    assert client.post(reverse("accounts:login-link"), {"trust": "on"}).status_code == 302
    assert _signed_out_and_in(client, member).url == reverse("home")


def test_sso_member_is_never_offered(sso_member):
    from accounts.stages import trust_days_for

    assert trust_days_for(sso_member, account=sso_member.account) == 0


# --- Ending trusts ------------------------------------------------------------------------


def test_personal_settings_list_and_stop_trusting(client, member_with_totp, clock):
    client.defaults["HTTP_USER_AGENT"] = FIREFOX
    _trusting_sign_in(client, member_with_totp, clock)
    page = client.get(reverse("security:personal")).content.decode()
    assert "Firefox on Windows" in page and "this browser" in page and "127.0.0.1" in page
    browser = TrustedBrowser.objects.get()
    assert (
        client.get(reverse("accounts:trusted-browser-stop", args=[browser.pk])).status_code == 405
    )
    response = client.post(reverse("accounts:trusted-browser-stop", args=[browser.pk]))
    assert response.status_code == HTTPStatus.FOUND
    assert not TrustedBrowser.objects.exists()
    assert SecurityEvent.objects.filter(kind="trusted_browser_removed").exists()
    assert _signed_out_and_in(client, member_with_totp).url == reverse("accounts:login-code")


def test_stop_trusting_another_members_browser_is_refused(
    client, member_with_totp, account_admin, clock
):
    _trusting_sign_in(client, member_with_totp, clock)
    browser = TrustedBrowser.objects.get()
    admin = Client()
    admin.force_login(account_admin)
    admin.post(reverse("accounts:trusted-browser-stop", args=[browser.pk]))
    assert TrustedBrowser.objects.filter(pk=browser.pk).exists()


def test_a_password_change_ends_every_trust(client, member_with_totp, clock):
    _trusting_sign_in(client, member_with_totp, clock)
    user = User.objects.get(pk=member_with_totp.pk)
    user.set_password("another passphrase 43")
    user.save()
    assert not TrustedBrowser.objects.exists()


def test_a_new_factor_ends_every_trust(client, member, clock):
    password_step(client, member.email)
    client.get(path_of(link_from_outbox()))
    client.post(reverse("accounts:login-link"), {"trust": "on"})
    assert TrustedBrowser.objects.exists()
    enroll_totp(User.objects.get(pk=member.pk))
    assert not TrustedBrowser.objects.exists()


def test_regenerated_recovery_codes_end_every_trust(client, member_with_totp, clock):
    from security.recovery_codes.services import recovery_codes_regenerate

    _trusting_sign_in(client, member_with_totp, clock)
    recovery_codes_regenerate(audit=AUDIT, user=User.objects.get(pk=member_with_totp.pk))
    assert not TrustedBrowser.objects.exists()


def test_turning_the_requirement_on_ends_every_trust_of_the_team(
    client, member_with_totp, account, account_admin, clock
):
    _trusting_sign_in(client, member_with_totp, clock)
    enroll_totp(account_admin)
    requirement_set(audit=AUDIT, account=account, admin=account_admin, required=True)
    assert not TrustedBrowser.objects.exists()


def test_an_admin_ends_every_trust_of_a_member(client, member_with_totp, admin_client, clock):
    _trusting_sign_in(client, member_with_totp, clock)
    url = reverse("accounts:member-trust-end", args=[member_with_totp.pk])
    assert "End trusted browsers" in admin_client.get(reverse("accounts:team")).content.decode()
    reauth_expired(admin_client)
    assert admin_client.post(url).url.startswith(reverse("security:reauth"))
    assert TrustedBrowser.objects.exists()
    admin_client.post(reverse("security:reauth"), {"secret": PASSWORD})
    mail.outbox.clear()
    assert admin_client.post(url).url == reverse("accounts:team")
    assert not TrustedBrowser.objects.exists()
    assert SecurityEvent.objects.filter(kind="trusted_browsers_ended").exists()
    assert any("trusted browsers were ended" in m.subject for m in mail.outbox)


def test_a_member_cannot_end_anothers_trusts(client, member_with_totp, account_admin, clock):
    _trusting_sign_in(client, member_with_totp, clock)
    url = reverse("accounts:member-trust-end", args=[account_admin.pk])
    assert client.post(url).status_code == HTTPStatus.FORBIDDEN


def test_removing_the_member_ends_their_trusts(client, member_with_totp, account_admin, clock):
    from accounts.services import member_remove

    _trusting_sign_in(client, member_with_totp, clock)
    member_remove(audit=AUDIT, member=member_with_totp, by=account_admin)
    assert not TrustedBrowser.objects.exists()


# --- The team's option --------------------------------------------------------------------


def test_security_page_sets_the_option(admin_client, account):
    assert "Trusted browsers" in admin_client.get(reverse("security:security")).content.decode()
    url = reverse("accounts:trust-settings")
    assert admin_client.post(url, {"offer": "on", "days": "7"}).status_code == 302
    account.refresh_from_db()
    assert (account.trust_browsers, account.trust_days) == (True, 7)
    admin_client.post(url, {"offer": "on", "days": "31"})
    account.refresh_from_db()
    assert account.trust_days == 7
    admin_client.post(url, {"days": "7"})
    account.refresh_from_db()
    assert not account.trust_browsers
    assert SecurityEvent.objects.filter(kind="trust_settings_changed").count() == 2


@pytest.mark.parametrize("days", ["\uff17", "\u0667", "1\uff14"])
def test_the_option_refuses_other_scripts_digits(admin_client, account, days):
    url = reverse("accounts:trust-settings")
    response = admin_client.post(url, {"offer": "on", "days": days}, follow=True)
    assert "Choose between 1 and 30 days." in response.content.decode()
    account.refresh_from_db()
    assert account.trust_days == 30
    assert not SecurityEvent.objects.filter(kind="trust_settings_changed").exists()


def test_the_option_needs_an_admin_and_a_recent_proof(admin_client, signed_in, account):
    url = reverse("accounts:trust-settings")
    assert signed_in.post(url, {"days": "3"}).status_code == HTTPStatus.FORBIDDEN
    reauth_expired(admin_client)
    assert admin_client.post(url, {"days": "3"}).url.startswith(reverse("security:reauth"))
    account.refresh_from_db()
    assert account.trust_browsers


def test_fewer_days_shorten_existing_trusts(client, member_with_totp, admin_client, clock):
    _trusting_sign_in(client, member_with_totp, clock)
    admin_client.post(reverse("accounts:trust-settings"), {"offer": "on", "days": "2"})
    browser = TrustedBrowser.objects.get()
    assert browser.expires_at == browser.created_at + datetime.timedelta(days=2)
    clock.advance(hours=49)
    assert _signed_out_and_in(client, member_with_totp).url == reverse("accounts:login-code")


def test_turning_the_option_off_ends_every_trust(client, member_with_totp, admin_client, clock):
    _trusting_sign_in(client, member_with_totp, clock)
    admin_client.post(reverse("accounts:trust-settings"), {"days": "30"})
    assert not TrustedBrowser.objects.exists()
    assert _signed_out_and_in(client, member_with_totp).url == reverse("accounts:login-code")


# --- Query budget -------------------------------------------------------------------------


def test_password_step_looks_up_a_trust_only_with_the_cookie(
    client, member_with_totp, clock, django_assert_max_num_queries
):
    _trusting_sign_in(client, member_with_totp, clock)
    client.post(reverse("accounts:logout"))
    with django_assert_max_num_queries(6):
        assert password_step(client, member_with_totp.email).url == reverse("home")


def test_staff_are_never_offered_nor_skip_by_an_older_trust(client, member_with_totp, clock):
    """Staff's second step guards /admin/ and the support actions of every team: a password
    alone in a trusted browser must not open them."""
    _trusting_sign_in(client, member_with_totp, clock)
    User.objects.filter(pk=member_with_totp.pk).update(is_staff=True)
    assert _signed_out_and_in(client, member_with_totp).url == reverse("accounts:login-code")
    assert not is_signed_in(client)
    page = client.get(reverse("accounts:login-code")).content.decode()
    assert "Trust this browser" not in page
    code_post(client, code_for(member_with_totp, offset=1, clock=clock), trust="on")
    assert is_signed_in(client)
    assert TrustedBrowser.objects.count() == 1  # only the one made before, which skips nothing


def test_a_trust_made_with_an_older_security_stamp_skips_nothing(client, member_with_totp, clock):
    """A trust row written while a change to how the member signs in ran (the change deleted
    the trusts it saw, then this one was inserted) is worthless: it carries the old stamp."""
    client.defaults["HTTP_USER_AGENT"] = FIREFOX
    _trusting_sign_in(client, member_with_totp, clock)
    User.objects.filter(pk=member_with_totp.pk).update(security_stamp="rotated-elsewhere")
    assert TrustedBrowser.objects.exists()  # the row survived, as in the race
    assert _signed_out_and_in(client, member_with_totp).url == reverse("accounts:login-code")
    code_post(client, code_for(member_with_totp, offset=1, clock=clock))
    assert is_signed_in(client)
    page = client.get(reverse("security:personal")).content.decode()
    assert "Trusted since" not in page  # no trusted-browsers list left


def test_the_admin_cannot_switch_the_teams_trust_option(root_client, account):
    """Switching it off and on in /admin/ (even as a superuser) would skip the Security page,
    which ends the trusts."""
    page = root_client.get(reverse("admin:accounts_account_change", args=[account.pk]))
    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    assert 'name="name"' in html
    for field in ("trust_browsers", "trust_days", "require_totp"):
        assert f'name="{field}"' not in html


def test_the_security_log_names_a_sign_in_through_trust(client, member_with_totp, clock):
    _trusting_sign_in(client, member_with_totp, clock)
    _signed_out_and_in(client, member_with_totp)
    page = client.get(reverse("security:personal")).content.decode()
    assert "Signed in (trusted browser)" in page and "Browser trusted" in page
