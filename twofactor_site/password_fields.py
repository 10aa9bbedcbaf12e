"""The one way a password (or a secret typed in its place) is asked for in a form."""

from __future__ import annotations

from django import forms

# Longer passwords are refused before they reach the hasher: Argon2id's work grows with its
# input, so an unbounded field would let one request cost the server as much as it likes.
PASSWORD_MAX_LENGTH = 1024


def password_field(label: str, *, autocomplete: str, autofocus: bool = False) -> forms.CharField:
    """A password field: kept as typed (spaces count), at most PASSWORD_MAX_LENGTH characters,
    never shown back, with the ``autocomplete`` hint password managers read."""
    attrs: dict[str, object] = {"autocomplete": autocomplete}
    if autofocus:
        attrs["autofocus"] = True
    return forms.CharField(
        label=label,
        max_length=PASSWORD_MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(attrs=attrs),
    )
