"""HEAD is answered like GET wherever GET is (RFC 9110 9.3.2: a server that answers GET
should answer HEAD), without its body and without doing what only a POST does: uptime
monitors, link checkers and mail scanners send HEAD."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from security.models import SecurityEvent
from tests.conftest import password_step, recovery_codes_of, site_paths
from tests.security.conftest import code_for, code_post

PATHS = site_paths()


def _assert_head_like_get(client: Client, path: str) -> None:
    got = client.get(path)
    head = client.head(path)
    if got.status_code == HTTPStatus.METHOD_NOT_ALLOWED:
        assert head.status_code == HTTPStatus.METHOD_NOT_ALLOWED, path
        return
    assert head.status_code == got.status_code, (path, got.status_code, head.status_code)
    assert head.content == b"", path
    if "Location" in got:
        assert head["Location"] == got["Location"], path


def test_the_walk_finds_the_entrance_and_settings_pages():
    for name in ("accounts:login", "accounts:password-reset", "security:personal", "home"):
        assert reverse(name) in PATHS


@pytest.mark.parametrize("path", PATHS)
def test_head_answers_like_get_signed_out(db, path):
    _assert_head_like_get(Client(raise_request_exception=False), path)


@pytest.mark.parametrize("path", PATHS)
def test_head_answers_like_get_half_signed_in(member, path):
    client = Client(raise_request_exception=False)
    password_step(client, member.email)
    _assert_head_like_get(client, path)


@pytest.mark.parametrize("path", PATHS)
def test_head_answers_like_get_signed_in(admin_client, path):
    admin_client.raise_request_exception = False
    _assert_head_like_get(admin_client, path)


def test_head_on_a_page_that_asks_first_does_not_do_it(clock, member_with_totp):
    """HEAD needs no CSRF token: a page whose POST does something must not do it on HEAD."""
    totp_client = Client()
    password_step(totp_client, member_with_totp.email)
    assert code_post(totp_client, code_for(member_with_totp, clock=clock)).status_code == 302
    before = recovery_codes_of(member_with_totp)
    response = totp_client.head(reverse("security:recovery-codes-regenerate"))
    assert response.status_code == HTTPStatus.OK
    assert recovery_codes_of(member_with_totp) == before
    assert not SecurityEvent.objects.filter(kind="recovery_codes_regenerated").exists()


def test_head_on_the_export_shows_the_form_and_exports_nothing(admin_client):
    response = admin_client.head(reverse("security:security-export"))
    assert response.status_code == HTTPStatus.OK
    assert not SecurityEvent.objects.filter(kind="security_log_exported").exists()
