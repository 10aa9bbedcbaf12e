"""What makes an authenticator code valid: security/totp/codes.py at fixed times."""

import base64
import hashlib
import hmac
import struct
import time
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest

from security.totp import codes as totp

# RFC 6238 Appendix B, SHA1: the secret is the ASCII bytes "12345678901234567890".
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]


def hotp_rfc4226(key: bytes, counter: int, digits: int) -> str:
    """RFC 4226 section 5.3 written out, independent of pyotp and of the code under test."""
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


@pytest.mark.parametrize(("at", "expected"), RFC_VECTORS)
def test_rfc6238_vectors_hold_for_the_reference_hotp(at, expected):
    assert hotp_rfc4226(b"12345678901234567890", at // 30, 8) == expected


@pytest.mark.parametrize(("at", "expected"), RFC_VECTORS)
def test_code_at_rfc6238_vectors_give_last_six_digits(at, expected):
    assert totp.code_at(RFC_SECRET, totp.time_step(at)) == expected[-6:]


@pytest.mark.parametrize(("at", "expected"), RFC_VECTORS)
def test_match_step_rfc6238_vectors_match_their_step(at, expected):
    assert totp.match_step(RFC_SECRET, expected[-6:], at=at) == at // 30


@pytest.mark.parametrize(("at", "expected"), RFC_VECTORS)
def test_match_step_rfc6238_eight_digits_refused(at, expected):
    assert totp.match_step(RFC_SECRET, expected, at=at) is None


def test_time_step_is_thirty_seconds_from_zero():
    assert totp.time_step(0) == 0
    assert totp.time_step(29.999) == 0
    assert totp.time_step(30) == 1
    assert totp.time_step(1111111109) == 37037036


@pytest.mark.parametrize("drift", [-1, 0, 1])
def test_match_step_one_step_of_drift_accepted(drift):
    at = 1234567890
    step = totp.time_step(at) + drift
    assert totp.match_step(RFC_SECRET, totp.code_at(RFC_SECRET, step), at=at) == step


@pytest.mark.parametrize("drift", [-3, -2, 2, 3])
def test_match_step_two_steps_of_drift_refused(drift):
    at = 1234567890
    code = totp.code_at(RFC_SECRET, totp.time_step(at) + drift)
    # The same code may by chance be right in the window too; these fixed values are not.
    window = {totp.code_at(RFC_SECRET, totp.time_step(at) + d) for d in (-1, 0, 1)}
    assert code not in window
    assert totp.match_step(RFC_SECRET, code, at=at) is None


@pytest.mark.parametrize("at", [1111111110, 1111111139])
def test_match_step_whole_step_boundaries(at):
    """Both ends of one 30-second step give the same step."""
    code = totp.code_at(RFC_SECRET, 37037037)
    assert totp.match_step(RFC_SECRET, code, at=at) == 37037037


def test_match_step_wrong_secret_refused():
    other = pyotp.random_base32(32)
    code = totp.code_at(RFC_SECRET, totp.time_step(59))
    assert totp.match_step(other, code, at=59) in (None,)


def test_match_step_accepts_the_code_an_app_shows_now():
    secret = totp.secret_new()
    assert totp.match_step(secret, pyotp.TOTP(secret).now(), at=time.time()) is not None


def test_code_at_agrees_with_an_independent_app():
    secret = totp.secret_new()
    for step in (0, 1, 12345678, 66666666):
        assert totp.code_at(secret, step) == pyotp.TOTP(secret).at(step * 30)
        assert totp.code_at(secret, step) == hotp_rfc4226(base64.b32decode(secret), step, 6)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("123456", "123456"),
        ("123 456", "123456"),
        (" 123456\n", "123456"),
        ("12 34 56", "123456"),
        ("\t000000 ", "000000"),
    ],
)
def test_normalize_code_removes_spaces(raw, expected):
    assert totp.normalize_code(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "１２３４５６",  # full-width digits
        "١٢٣٤٥٦",  # Arabic-Indic digits
        "1234567",
        "12345",
        "12345a",
        "abcdef",
        "123-456",
        "",
        "   ",
        None,
        "123456\x00",
    ],
)
def test_normalize_code_anything_else_none(raw):
    assert totp.normalize_code(raw) is None


def test_secret_new_at_least_160_bits_and_fresh():
    secrets_ = {totp.secret_new() for _ in range(20)}
    assert len(secrets_) == 20
    for secret in secrets_:
        assert len(base64.b32decode(secret)) * 8 >= 160
        assert secret == secret.upper() and "=" not in secret


def test_secret_grouped_groups_of_four_same_key():
    secret = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    assert totp.secret_grouped(secret) == "ABCD EFGH IJKL MNOP QRST UVWX YZ23 4567"
    assert totp.secret_grouped(secret).replace(" ", "") == secret


def test_provisioning_uri_names_issuer_account_and_rfc_defaults():
    secret = totp.secret_new()
    uri = totp.provisioning_uri(secret, account_name="mia@acme.test", issuer="Twofactor")
    parts = urlsplit(uri)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    assert unquote(parts.path) == "/Twofactor:mia@acme.test"
    assert query["secret"] == secret
    assert query["issuer"] == "Twofactor"
    # SHA1, 6 digits and 30 s are the defaults every app assumes when they are left out.
    assert query.get("algorithm", "SHA1") == "SHA1"
    assert query.get("digits", "6") == "6"
    assert query.get("period", "30") == "30"


def test_qr_svg_inline_svg_without_external_references():
    svg = totp.qr_svg("otpauth://totp/Twofactor:mia%40acme.test?secret=ABCD&issuer=Twofactor")
    assert svg.startswith("<svg")
    assert "<?xml" not in svg
    assert "href" not in svg and "data:" not in svg
