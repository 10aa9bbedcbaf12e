"""Where you're signed in: the list on Personal settings, "Sign out" per session, "Sign out
everywhere else", and an Account Admin signing a member out everywhere from Team Members."""

from __future__ import annotations

import re
from http import HTTPStatus
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.http import urlencode

from security.models import SecurityEvent
from security.totp import services as totp_services
from tests.conftest import (
    PASSWORD,
    current_code,
    is_signed_in,
    page_text,
    password_step,
    sign_in_with_link,
)
from tests.staff import signed_in_client

PERSONAL = reverse("security:personal")
CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
Kind = SecurityEvent.Kind


def browser(user_agent: str, ip: str) -> Client:
    return Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)


def signed_in_browsers(user) -> tuple[Client, Client]:
    here, elsewhere = browser(CHROME_LINUX, "203.0.113.7"), browser(FIREFOX_WINDOWS, "198.51.100.2")
    for client in (here, elsewhere):
        sign_in_with_link(client, user.email)
        assert is_signed_in(client)
    return here, elsewhere


def session_ids(page: bytes) -> list[str]:
    """The ids the page's "Sign out" buttons post to, in the page's order."""
    return re.findall(rb'action="/settings/personal/sessions/([^/"]+)/sign-out/"', page)


def rows(page: bytes) -> list[str]:
    return re.findall(r"<tr>\s*<td data-label=\"Browser\">(.*?)</tr>", page.decode(), re.S)


def test_personal_settings_list_each_session_this_one_first_and_marked(member):
    here, elsewhere = signed_in_browsers(member)
    page = here.get(PERSONAL)
    assert page.status_code == HTTPStatus.OK
    listed = rows(page.content)
    assert len(listed) == 2
    assert "Chrome on Linux" in listed[0] and "this browser" in listed[0]
    assert "203.0.113.7" in listed[0]
    assert "Firefox on Windows" in listed[1] and "this browser" not in listed[1]
    assert "198.51.100.2" in listed[1] and " UTC" in listed[1]
    assert b"Sign out everywhere else" in page.content


def test_the_page_names_sessions_by_an_id_never_by_their_key(member):
    here, elsewhere = signed_in_browsers(member)
    page = here.get(PERSONAL).content
    for client in (here, elsewhere):
        assert client.cookies["sessionid"].value.encode() not in page
    ids = session_ids(page)
    assert len(ids) == 2
    assert {here.cookies["sessionid"].value, elsewhere.cookies["sessionid"].value}.isdisjoint(
        {i.decode() for i in ids}
    )


def test_sign_out_one_session_signs_it_out_at_its_next_request(member):
    here, elsewhere = signed_in_browsers(member)
    other_id = session_ids(here.get(PERSONAL).content)[1].decode()
    response = here.post(reverse("accounts:session-end", args=[other_id]))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == PERSONAL
    assert not is_signed_in(elsewhere)
    assert is_signed_in(here)
    assert len(rows(here.get(PERSONAL).content)) == 1
    event = SecurityEvent.objects.get(kind=Kind.SESSION_ENDED)
    assert event.user == member and event.actor == member
    assert event.detail == {"browser": "Firefox on Windows"}
    assert other_id not in str(event.detail)


def test_signing_out_this_browser_from_the_list_is_a_sign_out(member):
    here, elsewhere = signed_in_browsers(member)
    this_id = session_ids(here.get(PERSONAL).content)[0].decode()
    response = here.post(reverse("accounts:session-end", args=[this_id]))
    assert response["Location"] == reverse("accounts:login")
    assert not is_signed_in(here)
    assert is_signed_in(elsewhere)
    assert SecurityEvent.objects.filter(kind=Kind.SIGN_OUT, user=member).count() == 1


@pytest.mark.parametrize("forged", ["x" * 22, "..", "%00", "a" * 500])
def test_a_made_up_session_id_is_not_found_and_ends_nothing(member, forged):
    here, elsewhere = signed_in_browsers(member)
    response = here.post(f"/settings/personal/sessions/{forged}/sign-out/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert is_signed_in(here) and is_signed_in(elsewhere)
    assert not SecurityEvent.objects.filter(kind=Kind.SESSION_ENDED).exists()


def test_a_member_cannot_end_another_members_session(member, account_admin):
    admin_browser, _ = signed_in_browsers(account_admin)
    admin_ids = session_ids(admin_browser.get(PERSONAL).content)
    mine = signed_in_client(member.email)
    for session_id in admin_ids:
        response = mine.post(reverse("accounts:session-end", args=[session_id.decode()]))
        assert response.status_code == HTTPStatus.NOT_FOUND
    assert is_signed_in(admin_browser)
    assert not SecurityEvent.objects.filter(kind=Kind.SESSION_ENDED).exists()


def test_ending_a_session_needs_a_post_with_csrf(member):
    here, _elsewhere = signed_in_browsers(member)
    other_id = session_ids(here.get(PERSONAL).content)[1].decode()
    url = reverse("accounts:session-end", args=[other_id])
    assert here.get(url).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = here.cookies
    assert strict.post(url).status_code == HTTPStatus.FORBIDDEN
    assert len(rows(here.get(PERSONAL).content)) == 2


def test_signed_out_visitors_are_sent_to_sign_in(client, db):
    response = client.post(reverse("accounts:session-end", args=["whatever"]))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("accounts:login"))
    response = client.post(reverse("accounts:sessions-end-others"))
    assert response["Location"].startswith(reverse("accounts:login"))


def test_sign_out_everywhere_else_keeps_this_session(member):
    here, elsewhere = signed_in_browsers(member)
    third = browser(CHROME_LINUX, "192.0.2.1")
    sign_in_with_link(third, member.email)
    response = here.post(reverse("accounts:sessions-end-others"))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == PERSONAL
    assert is_signed_in(here)
    assert not is_signed_in(elsewhere) and not is_signed_in(third)
    listed = rows(here.get(PERSONAL).content)
    assert len(listed) == 1 and "this browser" in listed[0]
    event = SecurityEvent.objects.get(kind=Kind.OTHER_SESSIONS_ENDED)
    assert event.user == member and event.actor == member


def test_the_list_follows_a_session_whose_key_rotated_at_a_factor_change(member, clock):
    """Adding the app rotates this session's key and ends the others: this one stays listed
    under its new key, and can still be signed out from a new browser."""
    here, elsewhere = signed_in_browsers(member)
    old_key = here.cookies["sessionid"].value
    here.post(reverse("security:enroll"))
    device = totp_services.enrollment_device(user=member)
    code = current_code(totp_services.device_secret(device))
    here.post(reverse("security:enroll-app"), {"code": code})
    assert here.cookies["sessionid"].value != old_key
    assert not is_signed_in(elsewhere)
    listed = rows(here.get(PERSONAL).content)
    assert len(listed) == 1 and "this browser" in listed[0]
    later = browser(FIREFOX_WINDOWS, "198.51.100.9")
    password_step(later, member.email)
    clock.advance(minutes=1)  # the next time step: a code is accepted once
    secret = totp_services.device_secret(totp_services.active_device(member))
    later.post(reverse("accounts:login-code"), {"code": current_code(secret)})
    assert is_signed_in(later)
    ids = session_ids(later.get(PERSONAL).content)
    assert len(ids) == 2
    later.post(reverse("accounts:session-end", args=[ids[1].decode()]))
    assert not is_signed_in(here)
    assert is_signed_in(later)


def test_last_seen_moves_with_use_at_most_once_a_minute(member, clock):
    here, elsewhere = signed_in_browsers(member)
    signed_in_at = rows(here.get(PERSONAL).content)[1]
    clock.advance(minutes=5)
    assert is_signed_in(elsewhere)
    later = rows(here.get(PERSONAL).content)[1]
    assert later != signed_in_at  # "last seen" is five minutes on
    started = re.findall(r"<time[^>]*>([^<]+)</time>", later)
    assert started[0] != started[1]


def test_ended_and_expired_sessions_are_not_listed(member, settings, clock):
    settings.SESSION_IDLE_MINUTES = 30
    here, elsewhere = signed_in_browsers(member)
    clock.advance(minutes=20)
    assert is_signed_in(here)
    clock.advance(minutes=20)  # elsewhere idle for 40 minutes: it would be signed out
    listed = rows(here.get(PERSONAL).content)
    assert len(listed) == 1 and "this browser" in listed[0]


def test_ordinary_requests_never_read_or_write_the_list(member, clock):
    """The list costs the sign-in one write and the Personal settings page its reads; any
    other request (a page a minute later that records "last seen" too) touches it not."""
    here, _elsewhere = signed_in_browsers(member)
    refuse = mock.Mock(side_effect=AssertionError("an ordinary request touched the list"))
    with mock.patch("twofactor_site.sessions._store_cache", refuse):
        for _ in range(3):
            clock.advance(minutes=2)
            assert here.get(reverse("home")).status_code == HTTPStatus.OK
            assert here.get(reverse("accounts:team")).status_code == HTTPStatus.OK


# --- An Account Admin, from Team Members ------------------------------------------------------


def sign_out_everywhere_url(user) -> str:
    return reverse("accounts:member-sessions-end", args=[user.pk])


def assert_not_signed_out(browser: Client) -> None:
    """The member's browser is still signed in, and no one was signed out everywhere."""
    assert is_signed_in(browser)
    assert not SecurityEvent.objects.filter(kind=Kind.ALL_SESSIONS_ENDED).exists()


def test_team_members_offers_sign_out_everywhere_to_admins_only(admin_client, member):
    page = admin_client.get(reverse("accounts:team")).content
    assert sign_out_everywhere_url(member).encode() in page
    mine = signed_in_client(member.email)
    assert b"Sign out everywhere" not in mine.get(reverse("accounts:team")).content


def test_admin_signs_a_member_out_everywhere(admin_client, member, account_admin):
    here, elsewhere = signed_in_browsers(member)
    url = sign_out_everywhere_url(member)
    page = admin_client.get(url)
    assert page.status_code == HTTPStatus.OK
    assert b"Sign member@acme.test out everywhere?" in page.content
    response = admin_client.post(url)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("accounts:team")
    assert not is_signed_in(here) and not is_signed_in(elsewhere)
    assert is_signed_in(admin_client)
    event = SecurityEvent.objects.get(kind=Kind.ALL_SESSIONS_ENDED)
    assert event.user == member and event.actor == account_admin
    assert event.account == member.account


def test_admin_sign_out_everywhere_asks_for_a_recent_proof(admin_client, member, clock, settings):
    here, _ = signed_in_browsers(member)
    clock.advance(minutes=settings.TWOFACTOR_REAUTH_MINUTES + 1)
    url = sign_out_everywhere_url(member)
    for response in (admin_client.get(url), admin_client.post(url)):
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"].startswith(reverse("security:reauth"))
    assert_not_signed_out(here)


def test_admin_cannot_sign_out_another_teams_member(member, other_admin):
    here, _ = signed_in_browsers(member)
    theirs = signed_in_client(other_admin.email)
    url = sign_out_everywhere_url(member)
    assert theirs.get(url).status_code == HTTPStatus.NOT_FOUND
    assert theirs.post(url).status_code == HTTPStatus.NOT_FOUND
    missing = reverse("accounts:member-sessions-end", args=[999999])
    assert theirs.post(missing).status_code == HTTPStatus.NOT_FOUND
    assert_not_signed_out(here)


def test_a_member_cannot_sign_out_a_teammate(member, account_admin):
    admin_browser, _ = signed_in_browsers(account_admin)
    mine = signed_in_client(member.email)
    assert mine.post(sign_out_everywhere_url(account_admin)).status_code == HTTPStatus.FORBIDDEN
    assert_not_signed_out(admin_browser)


def test_admin_signing_themselves_out_everywhere_ends_this_session_too(admin_client, account_admin):
    response = admin_client.post(sign_out_everywhere_url(account_admin))
    assert response["Location"] == reverse("accounts:login")
    assert not is_signed_in(admin_client)


def test_a_browser_that_held_a_removed_members_session_is_listed_after_its_invitation(
    member, account_admin
):
    """Removed and added again, the member accepts the invitation in the browser that still
    holds their old session: signing in there replaces that session, and the new one is
    listed like any other."""
    from accounts.services import member_readd
    from accounts.tokens import invitation_tokens
    from tests.accounts.test_password_set import _set_password_through, _uid
    from tests.conftest import AUDIT

    here = browser(CHROME_LINUX, "203.0.113.7")
    sign_in_with_link(here, member.email)
    readded, _sent = member_readd(audit=AUDIT, member=member, by=account_admin)
    url = reverse(
        "accounts:invite-accept", args=[_uid(readded), invitation_tokens.make_token(readded)]
    )
    response = _set_password_through(here, url)
    assert response.status_code == HTTPStatus.FOUND
    assert is_signed_in(here)
    listed = rows(here.get(PERSONAL).content)
    assert len(listed) == 1 and "this browser" in listed[0]


def test_signing_out_another_session_or_every_other_asks_for_a_recent_proof(
    member, clock, settings
):
    """A copied session cookie alone cannot sign its owner out of their other browsers."""
    here, elsewhere = signed_in_browsers(member)
    other_id = session_ids(here.get(PERSONAL).content)[1].decode()
    clock.advance(minutes=settings.TWOFACTOR_REAUTH_MINUTES + 1)
    confirm = f"{reverse('security:reauth')}?{urlencode({'next': PERSONAL})}"
    for url in (
        reverse("accounts:session-end", args=[other_id]),
        reverse("accounts:sessions-end-others"),
    ):
        response = here.post(url)
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"] == confirm
    assert "Confirm it's you, then make the change again." in page_text(here.get(confirm))
    assert is_signed_in(elsewhere) and is_signed_in(here)
    ended = [Kind.SESSION_ENDED, Kind.OTHER_SESSIONS_ENDED, Kind.ALL_SESSIONS_ENDED]
    assert not SecurityEvent.objects.filter(kind__in=ended).exists()

    here.post(reverse("security:reauth"), {"secret": PASSWORD})
    response = here.post(reverse("accounts:session-end", args=[other_id]))
    assert response["Location"] == PERSONAL
    assert not is_signed_in(elsewhere)


def test_signing_out_this_browser_from_the_list_asks_no_proof(member, clock, settings):
    here, elsewhere = signed_in_browsers(member)
    this_id = session_ids(here.get(PERSONAL).content)[0].decode()
    clock.advance(minutes=settings.TWOFACTOR_REAUTH_MINUTES + 1)
    response = here.post(reverse("accounts:session-end", args=[this_id]))
    assert response["Location"] == reverse("accounts:login")
    assert not is_signed_in(here)
    assert is_signed_in(elsewhere)
