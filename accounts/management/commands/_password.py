"""The password for a new account user: from TWOFACTOR_PASSWORD, or asked for."""

from __future__ import annotations

import getpass
import os

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

PASSWORD_ENV = "TWOFACTOR_PASSWORD"


def password_obtain(*, interactive: bool, email: str) -> str | None:
    """None means: no password now; the user sets one from an emailed invitation."""
    password = os.environ.get(PASSWORD_ENV)
    if password is None and interactive:
        password = getpass.getpass(f"Password for {email} (empty: send an invitation instead): ")
        if password and getpass.getpass("Again: ") != password:
            raise CommandError("The passwords did not match.")
    if not password:
        return None
    try:
        password_validation.validate_password(password)
    except ValidationError as error:
        raise CommandError("; ".join(error.messages)) from None
    return password
