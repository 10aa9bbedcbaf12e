"""Fixtures of the second factor's tests: a browser waiting at the code step, a member signed
in with the app (the one clock is tests/conftest.py's)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.presence import VERIFIED_AT_SESSION_KEY
from security.totp import codes as totp
from tests.conftest import Clock, password_step


def code_for(user, *, offset: int = 0, clock: Clock) -> str:
    """The code an authenticator app shows ``offset`` steps from the fixed clock."""
    return totp.code_at(user.totp_secret, clock.step() + offset)


@pytest.fixture
def code_client(client, member_with_totp):
    """A browser that gave the right password and now waits at the code step."""
    response = password_step(client, member_with_totp.email)
    assert response.url == reverse("accounts:login-code")
    return client


def code_post(client, code, **extra):
    return client.post(reverse("accounts:login-code"), {"code": code, **extra})


def switch_to(client, step: str):
    """ "Use a recovery code instead" (step "recovery-code"), or another way back."""
    return client.post(reverse("accounts:login-switch"), {"step": step})


@pytest.fixture
def recovery_client(code_client):
    """A browser at the code step that chose "Use a recovery code instead"."""
    response = switch_to(code_client, "recovery-code")
    assert response.url == reverse("accounts:login-recovery-code")
    return code_client


def recovery_post(client, code, **extra):
    return client.post(reverse("accounts:login-recovery-code"), {"recovery_code": code, **extra})


@pytest.fixture
def totp_client(client, member_with_totp, clock):
    """``member_with_totp`` signed in with a code from the app (the current step is used)."""
    password_step(client, member_with_totp.email)
    response = code_post(client, code_for(member_with_totp, clock=clock))
    assert response.status_code == 302, response.content
    return client


def reauth_expired(*clients: Client, minutes: float = 60) -> None:
    """The last proof of presence of each client's session dates from ``minutes`` ago, past
    the re-authentication window."""
    for client in clients:
        session = client.session
        session[VERIFIED_AT_SESSION_KEY] -= minutes * 60
        session.save()
