"""A member turned inactive, by whatever path saves the row (the Django admin, a shell, a
script), is signed out everywhere and trusted by no browser, so turning them back on brings
back neither. The admin's own path is in tests/support/test_support_admin.py."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import TrustedBrowser, User
from security.models import SecurityEvent
from tests.conftest import is_signed_in, password_step
from tests.security.conftest import code_for, code_post


@pytest.fixture
def trusted(clock, member_with_totp) -> Client:
    """A browser signed in as the member, which they trusted at the code step."""
    client = Client()
    password_step(client, member_with_totp.email)
    assert code_post(client, code_for(member_with_totp, clock=clock), trust="on").status_code == 302
    assert TrustedBrowser.objects.filter(user=member_with_totp).exists()
    assert is_signed_in(client)
    return client


@pytest.mark.parametrize("update_fields", [None, ["is_active"]])
def test_deactivating_by_a_save_ends_sessions_and_trusts(trusted, member_with_totp, update_fields):
    member = User.objects.get(pk=member_with_totp.pk)  # as a shell or a script loads it
    member.is_active = False
    member.save(update_fields=update_fields)
    assert not TrustedBrowser.objects.filter(user=member).exists()
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.ALL_SESSIONS_ENDED)
    assert event.user == member and event.actor is None
    User.objects.filter(pk=member.pk).update(is_active=True)
    # Back on: the session is gone, and the browser it trusted asks for the code again.
    assert not is_signed_in(trusted)
    assert password_step(trusted, member.email).url == "/login/code/"


def test_saving_an_inactive_member_again_ends_nothing_more(trusted, member_with_totp):
    member = User.objects.get(pk=member_with_totp.pk)
    member.is_active = False
    member.save()
    member.name = "Still away"
    member.save()
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.ALL_SESSIONS_ENDED).count() == 1


def test_other_saves_of_an_active_member_end_nothing(trusted, member_with_totp):
    member = User.objects.get(pk=member_with_totp.pk)
    member.name = "Renamed"
    member.save()
    assert is_signed_in(trusted)
    assert TrustedBrowser.objects.filter(user=member).exists()
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.ALL_SESSIONS_ENDED).exists()
