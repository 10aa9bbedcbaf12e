"""What makes an authenticator code valid. Pure functions over pyotp; no request, no ORM.

RFC 6238 defaults throughout: HMAC-SHA1, 6 digits, 30-second steps from T0 = 0, and one step
of clock drift either way.
"""

from __future__ import annotations

import base64
import io
import re
import secrets

import pyotp
import qrcode
import qrcode.image.svg

DIGITS = 6
STEP_SECONDS = 30
# One step either way: a phone clock a little off still works; more widens guessing.
DRIFT_STEPS = 1
# RFC 4226 section 4 asks for at least 128 bits and recommends 160: 20 random bytes.
SECRET_BYTES = 20

CODE_PATTERN = re.compile(r"[0-9]{6}")  # ASCII digits only, never other scripts' digits


def secret_new() -> str:
    """A fresh base32 secret of 160 bits (32 characters, no padding)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_grouped(secret: str) -> str:
    """The secret in groups of four, for typing or reading aloud."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(secret: str, *, account_name: str, issuer: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account_name, issuer_name=issuer
    )


def qr_svg(uri: str) -> str:
    """The URI as an inline SVG QR code (no external service, no data URI)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode("utf-8")
    return svg[svg.index("<svg") :]  # drop the XML declaration for inline use


def normalize_code(raw: str) -> str | None:
    """Six ASCII digits after removing spaces, or None."""
    candidate = re.sub(r"\s+", "", raw or "")
    return candidate if CODE_PATTERN.fullmatch(candidate) else None


def time_step(at: float) -> int:
    return int(at) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def match_step(secret: str, code: str, *, at: float) -> int | None:
    """The time step, within the allowed drift, whose code equals ``code``; None if none.

    ``at`` is the time to check for, in seconds since the epoch (the callers' clock is
    django.utils.timezone.now). The caller stores the returned step and accepts only later
    ones (RFC 6238 section 5.2). Later steps are tried last so a replay window never prefers
    the future.
    """
    now = time_step(at)
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    found = None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            found = step if found is None else found
    return found
