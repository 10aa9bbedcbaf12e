"""One language: pages are the same whatever the browser asks for, and say so to caches."""

from __future__ import annotations

from http import HTTPStatus

from django.test import Client
from django.urls import reverse


def test_a_page_is_the_same_for_every_accept_language_and_does_not_vary_by_it(db):
    english = Client(HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8")
    german = Client(HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    pages = [client.get(reverse("accounts:login")) for client in (english, german)]
    assert [page.status_code for page in pages] == [HTTPStatus.OK] * 2
    assert pages[0].content.decode().count("<html lang=\"en\"") == 1
    for page in pages:
        assert "Accept-Language" not in page.get("Vary", "")
        assert "Content-Language" not in page
    assert "Sign in" in pages[1].content.decode()
