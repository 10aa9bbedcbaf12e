"""Fixtures of the passkey tests: members with keys made by the software authenticator."""

from __future__ import annotations

import pytest
from django.urls import reverse

from security.passkeys import services
from tests.conftest import AUDIT, factor_changed, password_step
from tests.passkeys.authenticator import SoftKey, options_in

BINDING = services.binding_of("registered-by-the-tests")


def add_passkey(
    user, *, name: str = "YubiKey", key: SoftKey | None = None, counter: int = 1, client=None
) -> SoftKey:
    """Register a software key for ``user`` through the services, recovery codes first as
    the pages do. A factor change ends the user's sessions; ``client``'s goes on, as the
    settings page keeps its own."""
    from django.conf import settings

    key = key or SoftKey(origin=settings.SITE_URL, counter=counter)
    if services.recovery_codes_needed(user=user):
        services.recovery_codes_prepare(user=user)
    options = services.passkey_registration_begin(user=user, binding=BINDING)
    services.passkey_register(
        audit=AUDIT, user=user, binding=BINDING, name=name, answer=key.register(options)
    )
    user.refresh_from_db()
    factor_changed(user, client=client)
    return key


@pytest.fixture
def member_with_passkey(member):
    member.passkey = add_passkey(member)
    return member


@pytest.fixture
def passkey_client(client, member_with_passkey):
    """A browser that gave the right password and now waits at the passkey step."""
    response = password_step(client, member_with_passkey.email)
    assert response.url == reverse("accounts:login-passkey")
    return client


def step_options(client) -> dict:
    return options_in(client.get(reverse("accounts:login-passkey")))


def answer_post(client, answer: str = "", error: str = ""):
    return client.post(reverse("accounts:login-passkey"), {"answer": answer, "error": error})
