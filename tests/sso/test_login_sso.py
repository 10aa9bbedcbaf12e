"""Signing in with SSO against the real provider: /login/sso/, the hand-over, the callback."""

from __future__ import annotations

from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from accounts.models import User
from accounts.services import member_add, member_remove
from accounts.sso.flow import SSO_LOGIN_SESSION_KEY
from accounts.sso.models import Identity
from security.models import SecurityEvent
from tests.conftest import AUDIT, path_of

pytestmark = pytest.mark.django_db


def begin(client, email: str, next_url: str = "") -> str:
    """Ask for SSO with ``email``; returns the provider URL the hand-over page sends us to."""
    data = {"email": email}
    if next_url:
        data["next"] = next_url
    response = client.post(reverse("sso:login"), data)
    assert response.status_code == HTTPStatus.FOUND, response.content[:300]
    assert response["Location"] == reverse("sso:continue")
    return client.session[SSO_LOGIN_SESSION_KEY]["authorization_url"]


def sign_in(client, provider, email: str, login: str | None = None, next_url: str = ""):
    url = begin(client, email, next_url)
    back = provider.sign_in(url, login or email)
    return client.get(path_of(back))


def signed_in_as(client) -> int | None:
    value = client.session.get(SESSION_KEY)
    return int(value) if value else None


def test_login_page_offers_sso(client, db):
    response = client.get(reverse("accounts:login"))
    assert b'href="/login/sso/"' in response.content
    assert b"Sign in with SSO" in response.content


def test_sso_form_renders(client, db):
    response = client.get(reverse("sso:login"))
    assert response.status_code == HTTPStatus.OK
    assert b'name="email"' in response.content


def test_sso_member_signs_in_and_skips_second_step(client, provider, sso_team, sso_member):
    response = sign_in(client, provider, sso_member.email)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("home")
    assert signed_in_as(client) == sso_member.pk
    assert client.get(reverse("home")).status_code == HTTPStatus.OK
    event = SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SIGN_IN).get()
    assert event.user == sso_member
    assert event.detail == {"method": "sso", "issuer": provider.issuer}
    link = Identity.objects.get(user=sso_member)
    assert link.issuer == provider.issuer and link.subject.startswith("uid-")


def test_sso_hand_over_is_a_get_redirect_page_with_pkce_state_nonce(
    client, provider, sso_team, sso_member
):
    url = begin(client, sso_member.email)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(provider.issuer + "/auth?")
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43
    assert query["scope"] == ["openid email profile"]
    assert query["redirect_uri"] == ["https://twofactor.example/login/sso/callback/"]
    assert query["login_hint"] == [sso_member.email]
    assert query["state"][0] and query["nonce"][0]
    page = client.get(reverse("sso:continue"))
    assert page.status_code == HTTPStatus.OK
    assert f'content="0;url={url}"'.replace("&", "&amp;").encode() in page.content
    assert page["Referrer-Policy"] == "no-referrer"


def test_sso_linked_member_is_matched_by_sub_after_email_change(
    client, provider, sso_team, sso_member
):
    sign_in(client, provider, sso_member.email)
    client.post(reverse("accounts:logout"))
    subject = Identity.objects.get(user=sso_member).subject
    # The provider now calls them something else, at the same domain: the sub still matches.
    provider.set_account("renamed@acme.test", sub=subject, email="renamed@acme.test")
    sign_in(client, provider, sso_member.email, login="renamed@acme.test")
    assert signed_in_as(client) == sso_member.pk


def test_sso_next_is_kept_when_safe(client, provider, sso_team, sso_member):
    response = sign_in(client, provider, sso_member.email, next_url="/settings/personal/")
    assert response["Location"] == "/settings/personal/"


def test_sso_next_elsewhere_is_dropped(client, provider, sso_team, sso_member):
    response = sign_in(client, provider, sso_member.email, next_url="https://evil.example/")
    assert response["Location"] == reverse("home")


def test_sso_unrouted_email_gets_the_same_answer(client, provider, sso_team, sso_member):
    answers = []
    for email in ("nobody@elsewhere.test", "member@unverified.test", "admin@other.test"):
        response = client.post(reverse("sso:login"), {"email": email})
        answers.append((response.status_code, b"use single sign-on with us" in response.content))
    assert answers == [(HTTPStatus.BAD_REQUEST, True)] * 3
    assert SSO_LOGIN_SESSION_KEY not in client.session


def test_sso_unverified_domain_routes_nowhere(client, provider, sso_team, sso_member):
    sso_team.domain.verified_at = None
    sso_team.domain.save()
    response = client.post(reverse("sso:login"), {"email": sso_member.email})
    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_sso_connection_off_routes_nowhere(client, provider, sso_team, sso_member):
    sso_team.connection.enabled = False
    sso_team.connection.save()
    response = client.post(reverse("sso:login"), {"email": sso_member.email})
    assert response.status_code == HTTPStatus.BAD_REQUEST


# --- The callback refuses ------------------------------------------------------------------------


def refused(response, status=HTTPStatus.BAD_REQUEST) -> str:
    from html import unescape

    assert response.status_code == status, response.content[:400]
    return unescape(response.content.decode())


def test_sso_tampered_state_is_refused(client, provider, sso_team, sso_member):
    back = provider.sign_in(begin(client, sso_member.email), sso_member.email)
    tampered = back.replace("state=", "state=x")
    page = refused(client.get(path_of(tampered)))
    assert "started in this browser" in page
    assert signed_in_as(client) is None
    # The real state is gone too: the sign-in must start again.
    refused(client.get(path_of(back)))
    assert signed_in_as(client) is None
    assert SecurityEvent.objects.filter(kind="sso_refused", detail__reason="state").count() == 2


def test_sso_callback_in_another_browser_is_refused(
    client, provider, sso_team, sso_member, django_user_model
):
    from django.test import Client

    back = provider.sign_in(begin(client, sso_member.email), sso_member.email)
    other = Client()
    refused(other.get(path_of(back)))
    assert signed_in_as(other) is None


def test_sso_replayed_callback_is_refused(client, provider, sso_team, sso_member):
    back = provider.sign_in(begin(client, sso_member.email), sso_member.email)
    assert client.get(path_of(back)).status_code == HTTPStatus.FOUND
    client.post(reverse("accounts:logout"))
    refused(client.get(path_of(back)))
    assert signed_in_as(client) is None


def test_sso_replayed_code_is_refused_by_the_provider(client, provider, sso_team, sso_member):
    from django.test import Client

    first = provider.sign_in(begin(client, sso_member.email), sso_member.email)
    assert client.get(path_of(first)).status_code == HTTPStatus.FOUND
    # Another browser starts its own sign-in, then presents the code already used.
    attacker = Client()
    begin(attacker, sso_member.email)
    state = attacker.session[SSO_LOGIN_SESSION_KEY]["state"]
    code = parse_qs(urlsplit(first).query)["code"][0]
    page = refused(attacker.get(reverse("sso:callback"), {"code": code, "state": state}))
    assert "refused this sign-in" in page
    assert signed_in_as(attacker) is None
    assert SecurityEvent.objects.filter(kind="sso_refused", detail__reason="token-refused").exists()


def test_sso_wrong_nonce_is_refused(client, provider, sso_team, sso_member):
    back = provider.sign_in(begin(client, sso_member.email), sso_member.email)
    session = client.session
    session[SSO_LOGIN_SESSION_KEY] = {**session[SSO_LOGIN_SESSION_KEY], "nonce": "another-nonce"}
    session.save()
    page = refused(client.get(path_of(back)))
    assert "couldn't check your identity provider's answer" in page
    assert signed_in_as(client) is None
    assert SecurityEvent.objects.filter(kind="sso_refused", detail__reason="claim-nonce").exists()


def test_sso_unverified_email_is_refused(client, provider, sso_team, sso_member):
    provider.set_account(sso_member.email, email_verified=False)
    page = refused(sign_in(client, provider, sso_member.email), HTTPStatus.FORBIDDEN)
    assert "hasn't confirmed" in page
    assert signed_in_as(client) is None
    provider.set_account(sso_member.email, email_verified=True)


def test_sso_email_of_another_teams_domain_is_refused(
    client, provider, sso_team, sso_member, other_admin
):
    from tests.sso.fixtures import connect

    connect(
        other_admin.account, provider, site_url="https://twofactor.example", domain="globex.test"
    )
    globex = member_add(
        account=other_admin.account, email="sso@globex.test", identity=User.Identity.SSO
    )
    # Acme's provider vouches for an address at Globex's domain: nobody is signed in.
    page = refused(
        sign_in(client, provider, sso_member.email, login=globex.email), HTTPStatus.FORBIDDEN
    )
    assert "isn't an address of a domain Acme verified" in page
    assert signed_in_as(client) is None


def test_sso_password_member_is_not_signed_in_by_sso(client, provider, sso_team, member):
    page = refused(sign_in(client, provider, member.email), HTTPStatus.FORBIDDEN)
    assert "signs in with a password" in page
    assert signed_in_as(client) is None
    assert not Identity.objects.exists()


def test_sso_removed_member_is_refused(client, provider, sso_team, sso_member, account_admin):
    sign_in(client, provider, sso_member.email)
    client.post(reverse("accounts:logout"))
    member_remove(audit=AUDIT, member=sso_member, by=account_admin)
    page = refused(sign_in(client, provider, "sso@acme.test"), HTTPStatus.FORBIDDEN)
    assert "isn't a member of Acme" in page
    assert signed_in_as(client) is None
    assert not User.objects.filter(email="sso@acme.test").exists()


def test_sso_unknown_person_is_refused_when_jit_is_off(client, provider, sso_team):
    page = refused(sign_in(client, provider, "newcomer@acme.test"), HTTPStatus.FORBIDDEN)
    assert "isn't a member of Acme" in page
    assert not User.objects.filter(email="newcomer@acme.test").exists()


def test_sso_unknown_person_becomes_a_member_when_jit_is_on(client, provider, sso_team):
    sso_team.connection.jit_provisioning = True
    sso_team.connection.save()
    provider.set_account("newcomer@acme.test", name="Nia Newcomer")
    response = sign_in(client, provider, "newcomer@acme.test")
    assert response.status_code == HTTPStatus.FOUND
    user = User.objects.get(email="newcomer@acme.test")
    assert user.account == sso_team.account and user.is_sso and user.role == User.Role.MEMBER
    assert user.name == "Nia Newcomer" and not user.has_usable_password()
    assert signed_in_as(client) == user.pk
    added = SecurityEvent.objects.get(kind=SecurityEvent.Kind.MEMBER_ADDED, user=user)
    assert added.detail["via"] == "sso"


def test_sso_consent_denied_gets_a_clear_page(client, provider, sso_team, sso_member):
    back = provider.sign_in(begin(client, sso_member.email), sso_member.email, cancel=True)
    assert "error=access_denied" in back
    page = refused(client.get(path_of(back)), HTTPStatus.FORBIDDEN)
    assert "didn't sign you in" in page and "access_denied" in page
    assert signed_in_as(client) is None


def test_sso_provider_down_gets_a_clear_page(client, provider, sso_team, sso_member, settings):
    from tests.sso.fixtures import start_provider, stop_provider

    spare = start_provider()
    sso_team.connection.issuer = spare.issuer
    sso_team.connection.save()
    stop_provider(spare)
    response = client.post(reverse("sso:login"), {"email": sso_member.email})
    page = refused(response, HTTPStatus.BAD_GATEWAY)
    assert "couldn't reach your identity provider" in page
    assert signed_in_as(client) is None


def test_sso_provider_down_at_the_callback_gets_a_clear_page(
    client, sso_team, sso_member, settings
):
    from tests.sso.fixtures import start_provider, stop_provider

    spare = start_provider()
    client_id, secret = spare.register("https://twofactor.example/login/sso/callback/")
    from security.encryption import encrypt

    connection = sso_team.connection
    connection.issuer, connection.client_id = spare.issuer, client_id
    connection.client_secret_encrypted = encrypt(secret)
    connection.save()
    back = spare.sign_in(begin(client, sso_member.email), sso_member.email)
    stop_provider(spare)
    page = refused(client.get(path_of(back)), HTTPStatus.BAD_GATEWAY)
    assert "couldn't reach your identity provider" in page
    assert signed_in_as(client) is None


def test_sso_requests_are_rate_limited_per_address(client, sso_team, sso_member, settings):
    settings.RATELIMIT_SSO_IP = "2/m"
    statuses = [
        client.post(reverse("sso:login"), {"email": "x@elsewhere.test"}).status_code
        for _ in range(3)
    ]
    assert statuses == [
        HTTPStatus.BAD_REQUEST,
        HTTPStatus.BAD_REQUEST,
        HTTPStatus.TOO_MANY_REQUESTS,
    ]
    callbacks = [client.get(reverse("sso:callback"), {"state": "x"}).status_code for _ in range(3)]
    assert callbacks[-1] == HTTPStatus.TOO_MANY_REQUESTS


def test_sso_callback_without_a_sign_in_started_is_refused(client, db):
    response = client.get(reverse("sso:callback"), {"code": "abc", "state": "def"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert SESSION_KEY not in client.session


def test_sso_callback_with_a_mixed_up_issuer_is_refused(client, provider, sso_team, sso_member):
    back = provider.sign_in(begin(client, sso_member.email), sso_member.email)
    assert "iss=" in back
    mixed = back.replace("iss=", "iss=https%3A%2F%2Fevil.example&was=")
    refused(client.get(path_of(mixed)))
    assert signed_in_as(client) is None


def test_sso_hand_over_page_without_a_sign_in_goes_back_to_the_form(client, db):
    response = client.get(reverse("sso:continue"))
    assert response["Location"] == reverse("sso:login")


def test_sso_signed_in_member_is_sent_home_from_the_form(client, provider, sso_team, sso_member):
    sign_in(client, provider, sso_member.email)
    assert client.get(reverse("sso:login"))["Location"] == reverse("home")


def test_sso_secret_no_key_opens_gets_a_clear_page(client, provider, sso_team, sso_member):
    back = provider.sign_in(begin(client, sso_member.email), sso_member.email)
    sso_team.connection.client_secret_encrypted = "gAAAAA-not-a-token-of-ours"
    sso_team.connection.save()
    page = refused(client.get(path_of(back)))
    assert "settings don't work with us yet" in page
    assert signed_in_as(client) is None
