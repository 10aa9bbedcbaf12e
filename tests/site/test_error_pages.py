"""Refusals for a signed-in member sit in the signed-in layout; developers can preview every
production error page on the debug server (/_errors/<status>/)."""

from html import unescape
from http import HTTPStatus

import pytest

PREVIEWS = {
    400: "That request could not be read",
    403: "You can't open this page",
    404: "Page not found",
    405: "That doesn't work here",
    415: "That request could not be read",
    429: "Too many attempts",
    500: "Something went wrong",
}


def test_not_found_for_a_signed_in_member_has_their_nav(signed_in):
    response = signed_in.get("/no/such/page/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    page = response.content.decode()
    assert "Page not found" in page
    assert 'class="topbar"' in page and "Sign out" in page
    assert "entrance-card" not in page


def test_forbidden_for_a_signed_in_member_has_their_nav(signed_in):
    response = signed_in.get("/settings/security/")
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert 'class="topbar"' in response.content.decode()


def test_not_found_signed_out_is_the_entrance_card(client, db):
    response = client.get("/no/such/page/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    page = response.content.decode()
    assert "entrance-card" in page and "Sign out" not in page


def test_not_found_during_a_pending_login_is_the_entrance_card(client, member):
    client.post("/login/", {"email": member.email, "password": "correct horse battery staple"})
    response = client.get("/no/such/page/")
    assert "Sign out" not in response.content.decode()


@pytest.mark.parametrize("status, title", PREVIEWS.items())
def test_error_preview_shows_the_production_page_in_debug(client, db, settings, status, title):
    settings.DEBUG = True
    response = client.get(f"/_errors/{status}/")
    assert response.status_code == status
    assert title in unescape(response.content.decode())


def test_error_preview_is_not_found_without_debug(client, db, settings):
    settings.DEBUG = False
    response = client.get("/_errors/500/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "Page not found" in response.content.decode()


def test_error_preview_of_an_unknown_status_is_not_found(client, db, settings):
    settings.DEBUG = True
    assert client.get("/_errors/418/").status_code == HTTPStatus.NOT_FOUND
