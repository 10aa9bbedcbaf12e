"""The passkey step offers "Trust this browser" too (tests/trust has the rules)."""

from __future__ import annotations

from http import HTTPStatus

from django.urls import reverse

from accounts.models import TrustedBrowser
from tests.conftest import password_step
from tests.passkeys.conftest import step_options


def test_passkey_step_offers_and_makes_a_trust(passkey_client, member_with_passkey):
    page = passkey_client.get(reverse("accounts:login-passkey")).content.decode()
    assert "Trust this browser for 30 days" in page
    answer = member_with_passkey.passkey.assert_(step_options(passkey_client))
    response = passkey_client.post(
        reverse("accounts:login-passkey"), {"answer": answer, "trust": "on"}
    )
    assert response.status_code == HTTPStatus.FOUND
    assert TrustedBrowser.objects.filter(user=member_with_passkey).exists()
    assert _again(passkey_client, member_with_passkey).url == reverse("home")


def _again(client, user):
    client.post(reverse("accounts:logout"))
    return password_step(client, user.email)
