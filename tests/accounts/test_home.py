"""The signed-in home page: the member's own page, and what it costs."""

from __future__ import annotations

from http import HTTPStatus

from django.urls import reverse

HOME = reverse("home")


def test_home_shows_the_member_and_their_team(client, signed_in, member):
    response = client.get(HOME)
    assert response.status_code == HTTPStatus.OK
    assert member.email in response.content.decode()
    assert member.account.name in response.content.decode()


def test_home_one_query(client, signed_in, django_assert_max_num_queries):
    """The member with their team in one query: the enrollment gate and the page read the
    team from it."""
    with django_assert_max_num_queries(1):
        assert client.get(HOME).status_code == HTTPStatus.OK


def test_home_requires_sign_in(client, db):
    response = client.get(HOME)
    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("accounts:login"))
