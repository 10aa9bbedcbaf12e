"""Headers and cookies under production settings, `check --deploy`, and no-store on pages
that show codes or secrets."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from security.recovery_codes import services as recovery_code_services
from tests.conftest import current_code, password_step, sign_in_with_link, site_paths
from tests.hardening.conftest import APPLIED_SECURITY_SETTINGS, manage, production_env

APPLIED = APPLIED_SECURITY_SETTINGS


@pytest.fixture
def production(settings, production_settings):
    for name in APPLIED:
        setattr(settings, name, production_settings[name])
    return settings


def test_deploy_check_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout, result.stdout + result.stderr


def test_production_silences_only_hsts_preload(production_settings):
    # A clean check --deploy must not come from silencing it.
    assert production_settings["SILENCED_SYSTEM_CHECKS"] == ["security.W021"]


def test_production_settings_are_secure(production_settings):
    assert production_settings["DEBUG"] is False
    assert production_settings["SESSION_COOKIE_SECURE"] is True
    assert production_settings["CSRF_COOKIE_SECURE"] is True
    assert production_settings["SESSION_COOKIE_HTTPONLY"] is True
    assert production_settings["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert production_settings["SECURE_SSL_REDIRECT"] is True
    assert production_settings["SECURE_HSTS_SECONDS"] >= 31536000
    assert production_settings["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert production_settings["X_FRAME_OPTIONS"] == "DENY"


def test_production_refuses_to_start_without_its_secrets():
    for missing in ("SECRET_KEY", "REDIS_URL", "TWOFACTOR_ENCRYPTION_KEYS"):
        env = production_env()
        del env[missing]
        result = manage("check", env=env)
        assert result.returncode != 0
        assert missing in result.stderr, result.stderr[-500:]


@pytest.mark.django_db
def test_headers_under_production_settings(production, client):
    response = client.get(reverse("accounts:login"), secure=True)
    assert response.status_code == HTTPStatus.OK
    csp = {
        directive.strip().split(" ", 1)[0]: directive.strip()
        for directive in response["Content-Security-Policy"].split(";")
    }
    assert csp["object-src"] == "object-src 'none'"
    assert csp["base-uri"] == "base-uri 'none'"
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin")
    hsts = response["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts
    assert "includeSubDomains" in hsts
    csrf_cookie = response.cookies["csrftoken"]
    assert csrf_cookie["secure"] is True


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https(production, client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert response.url.startswith("https://")


def test_session_cookie_is_secure_httponly_lax(production, client, member):
    response = client.post(
        reverse("accounts:login"),
        {"email": member.email, "password": "correct horse battery staple"},
        secure=True,
    )
    assert response.status_code == HTTPStatus.FOUND
    cookie = response.cookies["sessionid"]
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_error_pages_carry_the_headers_too(production, client, db):
    response = client.put(reverse("accounts:login"), secure=True)
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert b"<h1" in response.content


def test_link_landing_page_sends_no_referrer(client, member):
    from tests.conftest import link_from_outbox, path_of

    password_step(client, member.email)
    landing = client.get(path_of(link_from_outbox()), follow=True)
    assert landing.status_code == HTTPStatus.OK
    assert landing["Referrer-Policy"] == "no-referrer"


# --- Cache-Control: no-store where codes or secrets are shown ------------------------------


def _assert_no_store(response) -> None:
    assert response.status_code == HTTPStatus.OK, response
    assert "no-store" in response.get("Cache-Control", ""), response.get("Cache-Control")


def _assert_pages_no_store(client, *names: str) -> None:
    for name in names:
        _assert_no_store(client.get(reverse(name)))


def test_enrollment_pages_are_no_store(client, member):
    sign_in_with_link(client, member.email)
    client.post(reverse("security:enroll"))
    _assert_pages_no_store(
        client,
        "security:enroll-codes",
        "security:enroll-codes-download",
        "security:enroll-codes-print",
        "security:enroll-app",
    )


def test_recovery_code_pages_are_no_store(client, member_with_totp):
    password_step(client, member_with_totp.email)
    _assert_no_store(client.get(reverse("accounts:login-code")))
    client.post(
        reverse("accounts:login-code"), {"code": current_code(member_with_totp.totp_secret)}
    )
    _assert_pages_no_store(
        client,
        "security:recovery-codes",
        "security:recovery-codes-download",
        "security:recovery-codes-print",
        "security:reauth",
    )
    regenerated = client.post(reverse("security:recovery-codes-regenerate"), follow=True)
    _assert_no_store(regenerated)
    assert recovery_code_services.recovery_codes_remaining(user=member_with_totp) == 10


def test_sign_in_steps_are_no_store(client, member):
    _assert_no_store(client.get(reverse("accounts:login")))
    password_step(client, member.email)
    _assert_no_store(client.get(reverse("accounts:login-email-sent")))


# Every page a signed-in member gets shows something of theirs (their factors, sessions, team,
# security log): none may stay in a shared or back-button cache after they sign out.
@pytest.mark.parametrize("path", site_paths())
def test_every_answer_to_a_signed_in_member_is_no_store(admin_client, member_with_totp, path):
    app_client = Client()
    password_step(app_client, member_with_totp.email)
    app_client.post(
        reverse("accounts:login-code"), {"code": current_code(member_with_totp.totp_secret)}
    )
    for client in (admin_client, app_client):
        client.raise_request_exception = False
        response = client.get(path)
        if response.status_code != HTTPStatus.METHOD_NOT_ALLOWED:
            assert "no-store" in response.get("Cache-Control", ""), (path, response.status_code)


def test_the_personal_settings_page_is_no_store(signed_in):
    _assert_pages_no_store(signed_in, "security:personal", "home", "accounts:team")


def test_static_files_stay_cacheable_when_signed_in(signed_in):
    response = signed_in.get("/static/favicon.svg")
    assert response.status_code == HTTPStatus.OK
    assert "public" in response["Cache-Control"]
    assert "no-store" not in response["Cache-Control"]
