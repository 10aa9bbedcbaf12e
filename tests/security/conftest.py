"""Fixtures of the second factor's tests: a fixed authenticator clock, a browser waiting at the
code step, a member signed in with the app."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from django.urls import reverse

from security.totp import codes as totp
from tests.conftest import password_step


class Clock:
    """A settable stand-in for the ``time`` module, patched into one module at a time."""

    def __init__(self, now: float):
        self.now = now

    def time(self) -> float:
        return self.now

    def step(self) -> int:
        return totp.time_step(self.now)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """The authenticator clock (security.totp) fixed in the middle of the current time step,
    so a test never straddles a step boundary."""
    now = time.time()
    fixed = Clock(totp.time_step(now) * totp.STEP_SECONDS + totp.STEP_SECONDS / 2)
    monkeypatch.setattr("security.totp.codes.time", fixed)
    return fixed


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


@pytest.fixture
def totp_client(client, member_with_totp, clock):
    """``member_with_totp`` signed in with a code from the app (the current step is used)."""
    password_step(client, member_with_totp.email)
    response = code_post(client, code_for(member_with_totp, clock=clock))
    assert response.status_code == 302, response.content
    return client


def reauth_expired(monkeypatch, minutes: float = 60) -> None:
    """Move the settings pages' clock past the re-authentication window."""
    later = time.time() + minutes * 60
    monkeypatch.setattr("accounts.presence.time", SimpleNamespace(time=lambda: later))
