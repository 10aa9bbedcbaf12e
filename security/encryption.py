"""Secrets at rest: authenticated encryption and keyed digests with keys that never enter the
database. Pure functions over settings; no request, no ORM."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


class DecryptionError(Exception):
    """A stored secret could not be decrypted with any configured key."""


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret.encode()
    )


@functools.lru_cache(maxsize=8)
def _keys(configured: tuple[str, ...], secret_key: str) -> tuple[MultiFernet, tuple[bytes, ...]]:
    """The Fernets and one digest key per configured key, newest first. Digests are made with
    the newest and matched against all, so rotating keys keeps stored recovery codes usable."""
    if configured:
        fernets = [Fernet(key.encode()) for key in configured]
        digest_keys = tuple(_derive(key, b"twofactor recovery-code digest") for key in configured)
    else:
        # Debug and tests only (settings refuse production without configured keys).
        derived = _derive(secret_key, b"twofactor fernet")
        fernets = [Fernet(base64.urlsafe_b64encode(derived))]
        digest_keys = (_derive(secret_key, b"twofactor recovery-code digest"),)
    return MultiFernet(fernets), digest_keys


def _current() -> tuple[MultiFernet, tuple[bytes, ...]]:
    return _keys(tuple(settings.TWOFACTOR_ENCRYPTION_KEYS), settings.SECRET_KEY)


def encrypt(plaintext: str) -> str:
    return _current()[0].encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _current()[0].decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError("no configured key decrypts this value") from None


def keyed_digest(value: str) -> str:
    """HMAC-SHA256 of value under a key outside the database: a dump alone reveals nothing
    that can be checked offline."""
    return _digest(_current()[1][0], value)


def keyed_digest_candidates(value: str) -> list[str]:
    """The digests ``value`` may be stored under: one per configured key, newest first."""
    return [_digest(key, value) for key in _current()[1]]


def _digest(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
