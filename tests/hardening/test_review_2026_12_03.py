"""Found by the outside review of 2026-12-03, each against a running server first (gunicorn,
production settings, PostgreSQL and Redis)."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.sso.flow import SSO_LOGIN_SESSION_KEY
from security.models import SecurityEvent
from tests.conftest import PASSWORD, path_of
from tests.sso.fixtures import connect

# --- What an identity provider says about a newcomer -----------------------------------------
# A team's own provider names the people it signs in. With just-in-time provisioning a name
# with a line break or a bidi override (refused where an admin types one: it ends up in email
# subjects) made member_add raise, and an address or a subject with a NUL, or longer than its
# column, reached PostgreSQL: a 500 at the callback, where the member should get a clear page.


@pytest.fixture
def jit_team(account, provider, settings):
    settings.TWOFACTOR_SSO_ALLOW_HTTP_LOOPBACK = True  # the test provider speaks http on loopback
    return connect(account, provider, site_url=settings.SITE_URL, jit=True)


def _sso_sign_in(provider, email: str, login: str):
    client = Client(raise_request_exception=False)
    client.post(reverse("sso:login"), {"email": email})
    url = client.session[SSO_LOGIN_SESSION_KEY]["authorization_url"]
    return client, client.get(path_of(provider.sign_in(url, login)))


@pytest.mark.parametrize(
    "name", ["Nia\nNewcomer", "Nia\r\nBcc: x@evil.example", "Nia \u202eremocweN", "Nia\x00N"]
)
def test_sso_newcomer_named_with_control_characters_joins_with_a_clean_name(
    jit_team, provider, name
):
    provider.set_account("nia@acme.test", name=name)
    _client, response = _sso_sign_in(provider, "nia@acme.test", "nia@acme.test")
    assert response.status_code == HTTPStatus.FOUND
    user = User.objects.get(email="nia@acme.test")
    assert user.name.startswith("Nia ") and user.name.isprintable()
    assert "\u202e" not in user.name


@pytest.mark.parametrize(
    "claims",
    [
        {"email": "nia\x00@acme.test"},
        {"email": "n" * 250 + "@acme.test"},
        {"email": "nia\n@acme.test"},
        {"email": "nia@acme.test\u202e"},
        # OpenID Connect Core 2: a subject is at most 255 ASCII characters.
        {"sub": "s" * 256},
        {"sub": "nia\x00"},
        {"sub": "n\u00efa"},
    ],
)
def test_sso_identity_that_cannot_be_one_is_refused_with_a_clear_page(jit_team, provider, claims):
    provider.set_account("nia@acme.test", **claims)
    client, response = _sso_sign_in(provider, "nia@acme.test", "nia@acme.test")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "<h1" in response.content.decode()
    assert not User.objects.filter(account=jit_team.account, identity="sso").exists()
    assert SecurityEvent.objects.filter(kind="sso_refused").exists()


# --- The admin's autocomplete endpoint ---------------------------------------------------------
# Django's /admin/autocomplete/ takes any relation's name, a reverse one too, and then fails on
# it: AttributeError, a 500 for any signed-in staff member.


def test_admin_autocomplete_of_a_reverse_relation_is_refused(root_client):
    root_client.raise_request_exception = False
    url = reverse("admin:autocomplete")
    query = {"app_label": "auth", "model_name": "group", "field_name": "user", "term": "a"}
    assert root_client.get(url, query).status_code == HTTPStatus.FORBIDDEN
    for broken in ({**query, "model_name": "nope"}, {"term": "a"}, {**query, "field_name": "x"}):
        assert root_client.get(url, broken).status_code == HTTPStatus.FORBIDDEN


def test_admin_autocomplete_of_a_declared_relation_still_answers(root_client):
    url = reverse("admin:autocomplete")
    query = {"app_label": "accounts", "model_name": "user", "field_name": "groups", "term": "Sup"}
    response = root_client.get(url, query)
    assert response.status_code == HTTPStatus.OK
    assert [row["text"] for row in response.json()["results"]] == ["Support"]


# --- The admin's password change ---------------------------------------------------------------
# /admin/password_change/ asks for the old password and answered every wrong guess with the
# form again, without limit: a copied staff session cookie could try passwords there as fast as
# it liked, where re-authentication (the same question) allows RATELIMIT_REAUTH_USER.


def test_admin_password_change_guesses_share_the_reauth_limit(root_client, settings):
    settings.RATELIMIT_REAUTH_USER = "3/10m"
    root_client.raise_request_exception = False
    url = reverse("admin:password_change")
    new = {"new_password1": "An0ther-long-passphrase", "new_password2": "An0ther-long-passphrase"}
    guesses = [
        root_client.post(url, {"old_password": f"guess {n}", **new}).status_code for n in range(3)
    ]
    assert guesses == [HTTPStatus.OK] * 3
    right = root_client.post(url, {"old_password": PASSWORD, **new})
    assert right.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert User.objects.get(email="root@twofactor.test").check_password(PASSWORD)
    # One budget with re-authentication: it is the same question.
    reauth = root_client.post(reverse("security:reauth"), {"secret": PASSWORD})
    assert reauth.status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_admin_password_change_within_the_limit_still_changes_it(root_client):
    url = reverse("admin:password_change")
    new = {"new_password1": "An0ther-long-passphrase", "new_password2": "An0ther-long-passphrase"}
    response = root_client.post(url, {"old_password": PASSWORD, **new})
    assert response.status_code == HTTPStatus.FOUND
    assert User.objects.get(email="root@twofactor.test").check_password(new["new_password1"])
