"""Recovery codes in settings: see, download, print, regenerate (security:recovery-codes*)."""

from http import HTTPStatus

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from security.models import RecoveryCode, SecurityEvent
from tests.conftest import password_step, recovery_code_post, recovery_codes_of

URL = reverse("security:recovery-codes")
DOWNLOAD = reverse("security:recovery-codes-download")
PRINT = reverse("security:recovery-codes-print")
REGENERATE = reverse("security:recovery-codes-regenerate")


@pytest.mark.django_db
@pytest.mark.parametrize("url", [URL, DOWNLOAD, PRINT])
def test_recovery_codes_pages_need_sign_in(client, url):
    assert client.get(url).url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize("url", [URL, DOWNLOAD, PRINT])
def test_recovery_codes_pages_need_an_active_app(signed_in, url):
    assert signed_in.get(url).url == reverse("security:personal")


@pytest.mark.parametrize("url", [URL, DOWNLOAD, PRINT])
def test_recovery_codes_pages_no_store(totp_client, url):
    assert "no-store" in totp_client.get(url).headers["Cache-Control"]


def test_recovery_codes_shows_codes_used_ones_struck(totp_client, member_with_totp):
    first = RecoveryCode.objects.filter(user=member_with_totp).order_by("id").first()
    codes = recovery_codes_of(member_with_totp)
    other = Client()
    password_step(other, member_with_totp.email)
    assert recovery_code_post(other, codes[0]).status_code == HTTPStatus.FOUND
    first.refresh_from_db()
    assert first.used_at is not None
    page = totp_client.get(URL).content.decode()
    assert f"<s>{codes[0]}</s>" in page
    for code in codes[1:]:
        assert f"<code>{code}</code>" in page


def test_recovery_codes_download_unused_only(totp_client, member_with_totp):
    codes = recovery_codes_of(member_with_totp)
    RecoveryCode.objects.filter(
        pk=RecoveryCode.objects.filter(user=member_with_totp).order_by("id").first().pk
    ).update(used_at="2026-01-01T00:00:00Z")
    response = totp_client.get(DOWNLOAD)
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    lines = response.content.decode().splitlines()
    assert [line for line in lines if line in codes] == codes[1:]


def test_recovery_codes_print_lists_codes(totp_client, member_with_totp):
    page = totp_client.get(PRINT).content.decode()
    for code in recovery_codes_of(member_with_totp):
        assert code in page


def test_recovery_codes_regenerate_kills_old_codes(totp_client, member_with_totp):
    old = recovery_codes_of(member_with_totp)
    response = totp_client.post(REGENERATE)
    assert response.url == URL
    new = recovery_codes_of(member_with_totp)
    assert len(new) == 10 and set(new).isdisjoint(old)
    assert RecoveryCode.objects.filter(user=member_with_totp).count() == 10
    page = totp_client.get(URL).content.decode()
    assert "old codes no longer work" in page
    assert all(code in page for code in new)
    assert mail.outbox[-1].to == [member_with_totp.email]
    assert "new recovery codes" in mail.outbox[-1].subject
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.RECOVERY_CODES_REGENERATED)
    assert event.user == member_with_totp

    other = Client()
    password_step(other, member_with_totp.email)
    assert recovery_code_post(other, old[0]).status_code == HTTPStatus.BAD_REQUEST
    assert recovery_code_post(other, new[0]).status_code == HTTPStatus.FOUND


def test_recovery_codes_regenerate_get_asks_first_and_changes_nothing(
    totp_client, member_with_totp
):
    old = recovery_codes_of(member_with_totp)
    response = totp_client.get(REGENERATE)
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert "Generate new recovery codes?" in page
    assert "All 10 of your unused recovery codes stop working at once" in page
    assert f'href="{URL}"' in page  # Cancel goes back to the codes
    assert recovery_codes_of(member_with_totp) == old
    assert not SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.RECOVERY_CODES_REGENERATED
    ).exists()


def test_recovery_codes_page_asks_before_regenerating(totp_client, member_with_totp):
    """The codes page's "Generate new recovery codes" is a link to the question, not a POST."""
    page = totp_client.get(URL).content.decode()
    assert f'<a class="button" href="{REGENERATE}">Generate new recovery codes</a>' in page
    assert f'action="{REGENERATE}"' not in page


def test_recovery_codes_regenerate_needs_csrf(totp_client, member_with_totp):
    old = recovery_codes_of(member_with_totp)
    totp_client.handler.enforce_csrf_checks = True
    assert totp_client.post(REGENERATE).status_code == HTTPStatus.FORBIDDEN
    assert recovery_codes_of(member_with_totp) == old


def test_recovery_codes_kept_encrypted_and_hashed(member_with_totp):
    for code in recovery_codes_of(member_with_totp):
        plain = code.replace("-", "")
        row_texts = RecoveryCode.objects.filter(user=member_with_totp).values_list(
            "digest", "code_encrypted"
        )
        assert all(plain not in digest and plain not in enc for digest, enc in row_texts)
