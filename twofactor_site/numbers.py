"""Dates and numbers typed by people: ASCII digits only.

Python reads other scripts' digits as numbers (``int("３")`` is 3, and ``strptime`` takes
"２０２６" as a year), and so do Django's DateField and IntegerField. What a member sees
in their field is then not what was stored, and no product of ours writes such digits. Every
date or number the app parses from a form or a query string goes through here: anything but
ASCII is the field's own "invalid" error, shown on the form again (a 400), never a guess.
"""

from __future__ import annotations

import re

from django import forms

ASCII_NUMBER = re.compile(r"[0-9]+")


def _refuse_other_digits(field: forms.Field, value):
    if isinstance(value, str) and not value.isascii():
        raise forms.ValidationError(field.error_messages["invalid"], code="invalid")


class AsciiDateField(forms.DateField):
    """A DateField that refuses a value with any non-ASCII character in it."""

    def to_python(self, value):
        _refuse_other_digits(self, value)
        return super().to_python(value)


class AsciiIntegerField(forms.IntegerField):
    """An IntegerField that refuses a value with any non-ASCII character in it."""

    def to_python(self, value):
        _refuse_other_digits(self, value)
        return super().to_python(value)


def page_number(raw: str | None) -> int | None:
    """A page number from a query string: ASCII digits, or None (the first page, as Django's
    Paginator.get_page answers any other bad number)."""
    if raw is None or not ASCII_NUMBER.fullmatch(raw) or len(raw) > 9:
        return None
    return int(raw)
