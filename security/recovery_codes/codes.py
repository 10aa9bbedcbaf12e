"""Recovery codes: generate, normalize, format. Pure functions; no request, no ORM."""

from __future__ import annotations

import re
import secrets

COUNT = 10
# 10 characters from a 32-letter alphabet: 50 bits each (SECURITY.md asks for 40 or more).
LENGTH = 10
# Crockford's base32: no i, l, o or u, so a code copied by hand cannot be misread; on input
# o reads as 0 and i or l as 1, as Crockford specifies.
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_LOOKALIKES = str.maketrans("oil", "011")
_ALLOWED = re.compile(rf"[{ALPHABET}]{{{LENGTH}}}")


def generate(count: int = COUNT) -> list[str]:
    """``count`` new codes in display form, ``abcde-fghjk``."""
    return [display(_one()) for _ in range(count)]


def _one() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def display(code: str) -> str:
    half = LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


def normalize(raw: str) -> str | None:
    """The code without spaces or dashes, lowercased; None if it cannot be a recovery code."""
    candidate = re.sub(r"[\s\-]+", "", raw or "").lower().translate(_LOOKALIKES)
    return candidate if _ALLOWED.fullmatch(candidate) else None
