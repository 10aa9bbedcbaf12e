"""The password form, password reset and sign-in links, for addresses of an SSO domain."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.urls import reverse

from accounts.models import User
from accounts.sso.flow import SSO_LOGIN_SESSION_KEY
from tests.conftest import PASSWORD, link_from_outbox, password_step, path_of

pytestmark = pytest.mark.django_db


def sent_to_provider(response, client) -> bool:
    return (
        response.status_code == HTTPStatus.FOUND
        and response["Location"] == reverse("sso:continue")
        and SSO_LOGIN_SESSION_KEY in client.session
    )


def test_password_form_sends_sso_member_to_the_provider(client, sso_team, sso_member):
    response = password_step(client, sso_member.email, "anything at all")
    assert sent_to_provider(response, client)
    assert SESSION_KEY not in client.session
    assert "twofactor_pending_login" not in client.session


def test_password_form_sends_unknown_address_to_the_provider(client, sso_team):
    assert sent_to_provider(password_step(client, "nobody@acme.test", "whatever"), client)


def test_password_form_sends_wrong_password_to_the_provider(client, sso_team, member):
    assert sent_to_provider(password_step(client, member.email, "wrong password"), client)


def test_password_form_right_password_of_password_member_goes_on(client, sso_team, member):
    response = password_step(client, member.email, PASSWORD)
    assert response["Location"] == reverse("accounts:login-email-sent")
    assert SSO_LOGIN_SESSION_KEY not in client.session


def test_password_form_hashes_once_in_every_case(client, sso_team, member, sso_member, monkeypatch):
    """The same work (one hash) whoever the address is, so timing tells nothing either."""
    from django.contrib.auth.hashers import MD5PasswordHasher

    calls = []
    real_encode = MD5PasswordHasher.encode  # verify() encodes too: one call per hash
    monkeypatch.setattr(
        MD5PasswordHasher, "encode", lambda self, *a: calls.append("hash") or real_encode(self, *a)
    )
    counts = []
    for email, password in (
        (sso_member.email, "guess"),
        ("nobody@acme.test", "guess"),
        (member.email, "wrong password"),
        (member.email, PASSWORD),
    ):
        calls.clear()
        password_step(client, email, password)
        counts.append(len(calls))
        client.post(reverse("accounts:login-cancel"))
    assert counts == [1, 1, 1, 1]


def test_password_form_for_sso_member_without_routing_says_no_match(client, sso_member):
    # No SSO set up for the domain: the same "don't match" as for anyone.
    response = password_step(client, sso_member.email, "anything")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert b"don&#x27;t match" in response.content


def test_password_reset_mails_nothing_to_sso_member(client, sso_team, sso_member, settings):
    known = client.post(reverse("accounts:password-reset"), {"email": sso_member.email})
    unknown = client.post(reverse("accounts:password-reset"), {"email": "nobody@acme.test"})
    assert known.status_code == unknown.status_code == HTTPStatus.FOUND
    assert known["Location"] == unknown["Location"]
    assert mail.outbox == []


def test_sign_in_link_of_a_member_switched_to_sso_stops_working(
    client, sso_team, member, account_admin
):
    from accounts.sso.services import member_convert_to_sso
    from tests.conftest import AUDIT

    password_step(client, member.email, PASSWORD)
    link = path_of(link_from_outbox())
    member_convert_to_sso(audit=AUDIT, member=member, by=account_admin)
    client.get(link)
    response = client.post(reverse("accounts:login-link"))
    assert SESSION_KEY not in client.session
    assert response.status_code in (HTTPStatus.FOUND, HTTPStatus.GONE)
    # And the old password no longer opens anything: the provider is the way in.
    client.post(reverse("accounts:login-cancel"))
    assert sent_to_provider(password_step(client, member.email, PASSWORD), client)
    assert User.objects.get(pk=member.pk).is_sso
