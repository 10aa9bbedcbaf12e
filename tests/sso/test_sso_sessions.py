"""An SSO member's sessions are listed and can be signed out like anyone's."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import is_signed_in
from tests.sessions.test_user_sessions import PERSONAL, rows, session_ids
from tests.sso.test_login_sso import sign_in

pytestmark = pytest.mark.django_db


def test_sso_members_sessions_are_listed_and_one_can_end_the_other(
    provider, sso_team, sso_member
):
    here, elsewhere = Client(), Client()
    for client in (here, elsewhere):
        assert sign_in(client, provider, sso_member.email).status_code == HTTPStatus.FOUND
        assert is_signed_in(client)
    page = here.get(PERSONAL).content
    assert len(rows(page)) == 2
    other_id = session_ids(page)[1].decode()
    here.post(reverse("accounts:session-end", args=[other_id]))
    assert not is_signed_in(elsewhere)
    assert is_signed_in(here)
