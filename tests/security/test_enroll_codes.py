"""Enrollment step 1: the recovery codes (security:enroll-codes) with their download and print
pages."""

from http import HTTPStatus

import pytest
from django.urls import reverse

from tests.conftest import recovery_codes_of

URL = reverse("security:enroll-codes")
DOWNLOAD = reverse("security:enroll-codes-download")
PRINT = reverse("security:enroll-codes-print")


@pytest.fixture
def started(signed_in):
    signed_in.post(reverse("security:enroll"))
    return signed_in


@pytest.mark.django_db
@pytest.mark.parametrize("url", [URL, DOWNLOAD, PRINT])
def test_enroll_codes_pages_need_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize("url", [URL, DOWNLOAD, PRINT])
def test_enroll_codes_pages_need_an_enrollment(signed_in, url):
    assert signed_in.get(url).url == reverse("security:enroll")


def test_enroll_codes_shows_all_ten_with_download_print_copy(started, member):
    response = started.get(URL)
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    codes = recovery_codes_of(member, active=False)
    assert len(codes) == 10
    for code in codes:
        assert f"<code>{code}</code>" in page
    assert f'href="{DOWNLOAD}"' in page
    assert f'href="{PRINT}"' in page
    assert "data-copy-target" in page
    assert 'name="saved"' in page


@pytest.mark.parametrize("url", [URL, DOWNLOAD, PRINT])
def test_enroll_codes_pages_no_store(started, url):
    assert "no-store" in started.get(url).headers["Cache-Control"]


def test_enroll_codes_next_refused_without_confirming_saved(started):
    for data in ({}, {"saved": "no"}, {"saved": ""}):
        response = started.post(URL, data)
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "Confirm that you saved your recovery codes" in response.content.decode()


def test_enroll_codes_next_after_confirming_goes_to_app(started):
    response = started.post(URL, {"saved": "yes"})
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("security:enroll-app")


def test_enroll_codes_same_codes_on_every_view(started, member):
    """Reloading shows the same codes: they are the ones that will be activated."""
    first = started.get(URL).content
    assert started.get(URL).content.count(b"<code>") == first.count(b"<code>") == 10
    for code in recovery_codes_of(member, active=False):
        assert code.encode() in first


def test_enroll_codes_download_text_attachment_with_all_codes(started, member, settings):
    settings.SITE_NAME = "Twofactor"
    response = started.get(DOWNLOAD)
    assert response.status_code == HTTPStatus.OK
    assert response.headers["Content-Type"].startswith("text/plain")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and ".txt" in disposition
    body = response.content.decode()
    assert member.email in body
    codes = recovery_codes_of(member, active=False)
    assert [line for line in body.splitlines() if line in codes] == codes


def test_enroll_codes_print_page_lists_all_codes(started, member):
    response = started.get(PRINT)
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert "print-page" in page
    for code in recovery_codes_of(member, active=False):
        assert code in page


def test_enroll_codes_post_only_get_and_post(started):
    assert started.put(URL).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert started.post(DOWNLOAD).status_code == HTTPStatus.METHOD_NOT_ALLOWED
