"""Text that ends up in an email header (a team name in a subject) or on a page from trusted
people's input: no control characters.

A CR or LF in a subject is a header injection (Django refuses to send it, with a 500); other
controls, Unicode line separators and bidirectional overrides garble or disguise what the
reader sees. They are refused where a value is entered (``refuse_control_characters``), and
``header_safe`` flattens whatever older data still holds before it goes into a header.
"""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Bidirectional embeddings, overrides and isolates (Unicode's "Trojan Source" characters):
# they reorder what a reader sees without changing what is stored.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def is_control_character(char: str) -> bool:
    """C0 and C1 controls (tab, CR and LF included), line and paragraph separators, bidi
    controls. Zero-width joiners stay allowed: names in several scripts need them."""
    return char in BIDI_CONTROLS or unicodedata.category(char) in ("Cc", "Zl", "Zp")


def has_control_characters(value: str) -> bool:
    return any(is_control_character(char) for char in value)


def refuse_control_characters(value: str) -> None:
    """A Django validator for names and anything else shown in a subject or header."""
    if has_control_characters(value or ""):
        raise ValidationError(
            _(
                "Use letters, digits, spaces and punctuation only: no line breaks, tabs or other control characters."
            ),
            code="control_characters",
        )


def header_safe(value: str) -> str:
    """``value`` on one line: every run of whitespace or control characters becomes one
    space, so it can go into a header whatever it holds."""
    cleaned = "".join(" " if is_control_character(char) else char for char in value)
    return " ".join(cleaned.split())
