"""Enrollment step 2: the QR code, the manual key and the confirming code (security:enroll-app);
and the success page (security:enroll-done)."""

import html
import re
from http import HTTPStatus
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest
import zxingcpp
from django.core import mail
from django.test import Client
from django.urls import reverse

from security.models import RecoveryCode, SecurityEvent, TOTPDevice
from security.recovery_codes import services as recovery_code_services
from security.totp import services as totp_services
from tests.conftest import current_code, password_step
from tests.security.conftest import code_post

URL = reverse("security:enroll-app")


@pytest.fixture
def enrolling(signed_in, member):
    """A signed-in member who started enrollment and confirmed the codes were saved."""
    signed_in.post(reverse("security:enroll"))
    signed_in.post(reverse("security:enroll-codes"), {"saved": "yes"})
    return signed_in


def shown_key(response) -> str:
    """The manual key as the page shows it, spaces removed, as a person would type it."""
    match = re.search(r'<code id="manual-key">([A-Z2-7 ]+)</code>', response.content.decode())
    assert match, "no manual key on the page"
    return match.group(1).replace(" ", "")


def svg_of(response) -> str:
    match = re.search(r"<svg\b.*?</svg>", response.content.decode(), re.S)
    assert match, "no inline SVG on the page"
    return match.group(0)


def rasterize(svg: str, scale: int = 8, quiet: int = 4) -> tuple[bytes, int, int]:
    """Paint the SVG's filled shapes into a grayscale bitmap: a small rasterizer for what
    qrcode's SvgPathImage draws (rectangles as absolute M/H/V/z path commands), refusing any
    other drawing command so a change of renderer is noticed rather than mis-read."""
    view_box = re.search(r'viewBox="([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)"', svg)
    assert view_box, svg[:200]
    width, height = (int(float(view_box.group(i))) for i in (3, 4))
    paths = re.findall(r'<path\b[^>]*\bd="([^"]*)"[^>]*>', svg)
    assert paths and not re.search(r"<(rect|image|use|circle|polygon)\b", svg)
    dark = set()
    for data in paths:
        tokens = re.findall(r"[MHVZmhvz]|-?[\d.]+", data.replace(",", " "))
        assert not set(tokens) & set("mhvLlCcSsQqTtAa"), "unexpected path command"
        i, x, y, corners = 0, 0.0, 0.0, []
        while i < len(tokens):
            command = tokens[i]
            if command == "M":
                x, y = float(tokens[i + 1]), float(tokens[i + 2])
                corners = [(x, y)]
                i += 3
            elif command == "H":
                x = float(tokens[i + 1])
                corners.append((x, y))
                i += 2
            elif command == "V":
                y = float(tokens[i + 1])
                corners.append((x, y))
                i += 2
            elif command in "Zz":
                xs = [c[0] for c in corners]
                ys = [c[1] for c in corners]
                for cx in range(int(min(xs)), int(max(xs))):
                    for cy in range(int(min(ys)), int(max(ys))):
                        dark.add((cx, cy))
                i += 1
            else:
                raise AssertionError(f"unexpected token {command!r}")
    size_x, size_y = (width + 2 * quiet) * scale, (height + 2 * quiet) * scale
    pixels = bytearray(b"\xff" * (size_x * size_y))
    for cx, cy in dark:
        for py in range((cy + quiet) * scale, (cy + quiet + 1) * scale):
            start = py * size_x + (cx + quiet) * scale
            pixels[start : start + scale] = b"\x00" * scale
    return bytes(pixels), size_x, size_y


def decode_qr(svg: str) -> str:
    pixels, width, height = rasterize(svg)
    image = memoryview(pixels).cast("B", (height, width))
    results = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(results) == 1, "the QR code did not decode"
    return results[0].text


# --- Renders, needs sign-in and an enrollment in progress ---------------------------------------


@pytest.mark.django_db
def test_enroll_app_needs_sign_in(client):
    response = client.get(URL)
    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("accounts:login"))


def test_enroll_app_without_enrollment_goes_to_start(signed_in):
    response = signed_in.get(URL)
    assert response.url == reverse("security:enroll")


def test_enroll_app_renders_qr_inline_key_and_code_field(enrolling, member):
    response = enrolling.get(URL)
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert "<svg" in page and "<img" not in page
    assert 'autocomplete="one-time-code"' in page
    key = shown_key(response)
    assert key == totp_services.device_secret(totp_services.enrollment_device(user=member))
    assert len(key) == 32  # 160 bits


def test_enroll_app_no_store(enrolling):
    assert "no-store" in enrolling.get(URL).headers["Cache-Control"]


def test_enroll_app_qr_decodes_to_provisioning_uri(enrolling, member, settings):
    settings.SITE_NAME = "Acme Sign-in"
    response = enrolling.get(URL)
    uri = decode_qr(svg_of(response))
    parts = urlsplit(uri)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.scheme == "otpauth"
    assert parts.netloc == "totp"
    assert unquote(parts.path) == f"/Acme Sign-in:{member.email}"
    assert query["issuer"] == "Acme Sign-in"
    assert query["secret"] == shown_key(response)
    assert query.get("algorithm", "SHA1").upper() == "SHA1"
    assert query.get("digits", "6") == "6"
    assert query.get("period", "30") == "30"
    # What an app does with it: the parsed URI gives the codes the server accepts.
    app = pyotp.parse_uri(uri)
    assert app.secret == shown_key(response) and app.digits == 6 and app.interval == 30


def test_enroll_app_scanned_qr_code_enrolls(enrolling, member):
    uri = decode_qr(svg_of(enrolling.get(URL)))
    response = enrolling.post(URL, {"code": pyotp.parse_uri(uri).now()})
    assert response.url == reverse("security:enroll-done")
    assert totp_services.active_device(member) is not None


def test_enroll_app_code_from_shown_key_enrolls_and_signs_in(enrolling, member):
    """As a person with an independent app would: type the shown key, enter its code; later
    sign in with the same app."""
    key = shown_key(enrolling.get(URL))
    app = pyotp.TOTP(key)  # an app's defaults: SHA1, 6 digits, 30 s
    response = enrolling.post(URL, {"code": app.now()})
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("security:enroll-done")

    other = Client()
    password_step(other, member.email)
    TOTPDevice.objects.filter(user=member).update(last_used_step=None)
    response = code_post(other, app.now())
    assert response.status_code == HTTPStatus.FOUND
    assert "_auth_user_id" in other.session


# --- The confirming code ------------------------------------------------------------------------


def test_enroll_app_right_code_activates_app_and_codes(enrolling, member):
    shown = [c for c, _ in recovery_code_services.recovery_codes_list(user=member, active=False)]
    key = shown_key(enrolling.get(URL))
    response = enrolling.post(URL, {"code": current_code(key)})
    assert response.url == reverse("security:enroll-done")
    device = TOTPDevice.objects.get(user=member)
    assert device.confirmed_at is not None and device.last_used_step is not None
    assert RecoveryCode.objects.filter(user=member, active=True).count() == 10
    assert not RecoveryCode.objects.filter(user=member, active=False).exists()
    assert [c for c, _ in recovery_code_services.recovery_codes_list(user=member)] == shown
    assert mail.outbox[-1].to == [member.email]
    assert "authenticator app added" in mail.outbox[-1].subject
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.TOTP_ADDED, user=member).exists()
    # Still signed in here; the member now signs in with the app.
    assert enrolling.get(reverse("security:enroll-done")).status_code == HTTPStatus.OK


def test_enroll_app_right_code_ends_other_sessions(enrolling, member):
    from tests.conftest import sign_in_with_link

    elsewhere = Client()
    sign_in_with_link(elsewhere, member.email)
    assert elsewhere.get(reverse("home")).status_code == HTTPStatus.OK
    enrolling.post(URL, {"code": current_code(shown_key(enrolling.get(URL)))})
    assert elsewhere.get(reverse("home")).status_code == HTTPStatus.FOUND
    assert enrolling.get(reverse("home")).status_code == HTTPStatus.OK


def test_enroll_app_wrong_code_refused_nothing_changes(enrolling, member):
    key = shown_key(enrolling.get(URL))
    wrong = "000000" if current_code(key) != "000000" else "111111"
    response = enrolling.post(URL, {"code": wrong})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "That code didn&#x27;t work" in response.content.decode()
    assert totp_services.active_device(member) is None
    assert not RecoveryCode.objects.filter(user=member, active=True).exists()
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.TOTP_ADDED).exists()
    # The next sign-in still uses the email link.
    mail.outbox.clear()
    other = Client()
    response = password_step(other, member.email)
    assert response.url == reverse("accounts:login-email-sent")
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("raw", ["１２３４５６", "1234567", "12345", "abcdef", ""])
def test_enroll_app_malformed_code_form_error(enrolling, member, raw):
    response = enrolling.post(URL, {"code": raw})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert totp_services.active_device(member) is None


def test_enroll_app_recovery_code_does_not_confirm(enrolling, member):
    code = recovery_code_services.recovery_codes_list(user=member, active=False)[0][0]
    response = enrolling.post(URL, {"code": code})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert totp_services.active_device(member) is None


def test_enroll_app_posted_secret_ignored(enrolling, member):
    attacker_secret = pyotp.random_base32(32)
    response = enrolling.post(
        URL, {"code": pyotp.TOTP(attacker_secret).now(), "secret": attacker_secret}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert totp_services.active_device(member) is None
    key = shown_key(enrolling.get(URL))
    assert key != attacker_secret
    enrolling.post(URL, {"code": current_code(key), "secret": attacker_secret})
    device = totp_services.active_device(member)
    assert totp_services.device_secret(device) == key


def test_enroll_app_rate_limited(enrolling, member, settings):
    settings.RATELIMIT_CODE_IP = "2/m"
    key = shown_key(enrolling.get(URL))
    wrong = "000000" if current_code(key) != "000000" else "111111"
    statuses = [enrolling.post(URL, {"code": wrong}).status_code for _ in range(3)]
    assert statuses[-1] == HTTPStatus.TOO_MANY_REQUESTS
    response = enrolling.post(URL, {"code": current_code(key)})
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert totp_services.active_device(member) is None


def test_enroll_app_secret_encrypted_at_rest(enrolling, member):
    key = shown_key(enrolling.get(URL))
    device = TOTPDevice.objects.get(user=member)
    assert key not in device.secret_encrypted
    for code in recovery_code_services.recovery_codes_list(user=member, active=False):
        plain = code[0].replace("-", "")
        assert not RecoveryCode.objects.filter(digest__contains=plain).exists()
        assert not RecoveryCode.objects.filter(code_encrypted__contains=plain).exists()


# --- After enrollment: the secret is never shown again ------------------------------------------


def test_enroll_app_secret_never_shown_after_enrollment(enrolling, member):
    response = enrolling.get(URL)
    key = shown_key(response)
    grouped = re.search(r'<code id="manual-key">([^<]+)</code>', response.content.decode()).group(1)
    enrolling.post(URL, {"code": current_code(key)})

    after = enrolling.get(URL)
    assert after.status_code == HTTPStatus.FOUND  # no page for it any more
    for name in ("security:enroll-done", "security:manage", "security:personal", "home"):
        page = html.unescape(enrolling.get(reverse(name)).content.decode())
        assert key not in page and grouped not in page, name
        assert "<svg" not in page, name


def test_enroll_done_needs_an_active_app(signed_in):
    assert signed_in.get(reverse("security:enroll-done")).url == reverse("security:enroll")


@pytest.mark.django_db
def test_enroll_done_needs_sign_in(client):
    response = client.get(reverse("security:enroll-done"))
    assert response.url.startswith(reverse("accounts:login"))
