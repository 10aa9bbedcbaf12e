"""GET /login/link/<token>/: takes the token out of the URL into this browser's session."""

from http import HTTPStatus

from django.test import Client

from accounts.models import SignInLink
from accounts.tokens import digest
from accounts.views import LINK_TOKEN_SESSION_KEY
from tests.conftest import link_from_outbox, password_step, path_of, pending_nonce


def test_link_token_moves_token_into_session_and_redirects(client, member):
    password_step(client, member.email)
    path = path_of(link_from_outbox())
    token = path.rstrip("/").rsplit("/", 1)[-1]
    response = client.get(path)
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == "/login/link/"
    assert token not in response.url
    assert client.session[LINK_TOKEN_SESSION_KEY] == digest(token)
    assert token not in str(dict(client.session.items()))  # only its digest is kept
    assert "no-store" in response.headers["Cache-Control"]
    assert SignInLink.objects.get().used_at is None


def test_link_token_in_fresh_browser_redirects_without_using_it(member):
    owner = Client()
    password_step(owner, member.email)
    response = Client().get(path_of(link_from_outbox()))
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == "/login/link/"
    assert SignInLink.objects.get().used_at is None


def test_link_token_too_long_is_404(client, db):
    response = client.get("/login/link/" + "a" * 101 + "/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert LINK_TOKEN_SESSION_KEY not in client.session


def test_link_token_get_only(client, member):
    password_step(client, member.email)
    path = path_of(link_from_outbox())
    assert client.post(path).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert LINK_TOKEN_SESSION_KEY not in client.session


def test_link_token_only_hashes_stored(client, member):
    password_step(client, member.email)
    nonce = pending_nonce(client)
    token = path_of(link_from_outbox()).rstrip("/").rsplit("/", 1)[-1]
    link = SignInLink.objects.get()
    columns = [str(getattr(link, field.attname)) for field in SignInLink._meta.concrete_fields]
    for secret in (token, nonce):
        assert not any(secret in column for column in columns)
    assert {link.token_hash, link.browser_hash} <= set(columns)
    assert len(link.token_hash) == len(link.browser_hash) == 64
