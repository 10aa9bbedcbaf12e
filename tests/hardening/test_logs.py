"""No password, code, token or session id in any log line, through a whole journey with
every logger at DEBUG (SQL included)."""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse

from security.recovery_codes import codes as recovery_codes
from security.recovery_codes import services as recovery_code_services
from security.totp import codes as totp
from security.totp import services as totp_services
from tests.conftest import PASSWORD, link_from_outbox, path_of

NEW_PASSWORD = "an entirely new passphrase 5"


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def all_logs():
    """Every record of every logger at DEBUG, including loggers that do not propagate."""
    handler = Collect()
    loggers = [logging.getLogger()] + [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and not logger.propagate
    ]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    for name in ("django", "django.request", "django.db.backends", "twofactor"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    connection.force_debug_cursor = True  # SQL statements and their parameters too
    yield handler
    connection.force_debug_cursor = False
    for logger, level in zip(loggers, levels):
        logger.removeHandler(handler)
        logger.setLevel(level)


class Journey:
    """A member's whole story, remembering every secret it handled."""

    def __init__(self, member) -> None:
        self.member = member
        self.client = Client(raise_request_exception=False)
        self.secrets: set[str] = {PASSWORD, NEW_PASSWORD}

    def remember_session(self) -> None:
        for name in ("sessionid", "csrftoken"):
            if name in self.client.cookies and self.client.cookies[name].value:
                self.secrets.add(self.client.cookies[name].value)

    def post(self, name: str, data: dict | None = None, *args):
        response = self.client.post(reverse(name, args=args), data or {})
        self.remember_session()
        return response

    def get(self, path: str):
        response = self.client.get(path)
        self.remember_session()
        return response

    def password(self, password: str = PASSWORD):
        return self.post("accounts:login", {"email": self.member.email, "password": password})

    def link(self) -> None:
        url = link_from_outbox()
        self.secrets.add(url.rstrip("/").rsplit("/", 1)[-1])
        self.get(path_of(url))
        assert self.post("accounts:login-link").status_code == 302

    def code(self, code: str, *, ok: bool = True) -> None:
        self.secrets.add(code)
        if recovery_codes.normalize(code) is not None and len(code) > 6:
            self.post("accounts:login-switch", {"step": "recovery-code"})
            response = self.post("accounts:login-recovery-code", {"recovery_code": code})
        else:
            response = self.post("accounts:login-code", {"code": code})
        assert (response.status_code == 302) is ok, response.status_code


def test_full_journey_logs_no_secret(all_logs, settings, member):
    journey = Journey(member)
    # Password and emailed link.
    journey.password()
    journey.link()
    # Enrollment: recovery codes, then the app.
    journey.post("security:enroll")
    journey.get(reverse("security:enroll-codes"))
    codes = [c for c, _ in recovery_code_services.recovery_codes_list(user=member, active=False)]
    journey.secrets.update(codes)
    journey.secrets.update(recovery_codes.normalize(c) for c in codes)
    journey.post("security:enroll-codes", {"saved": "yes"})
    journey.get(reverse("security:enroll-app"))
    secret = totp_services.device_secret(totp_services.enrollment_device(user=member))
    journey.secrets.update({secret, totp.secret_grouped(secret)})
    step = totp.time_step(__import__("time").time())
    enroll_code = totp.code_at(secret, step)
    journey.secrets.add(enroll_code)
    assert journey.post("security:enroll-app", {"code": enroll_code}).status_code == 302
    journey.post("accounts:logout")
    # A wrong code, then a right one; then a recovery code.
    journey.password()
    journey.code("000000" if enroll_code != "000000" else "111111", ok=False)
    journey.code(totp.code_at(secret, step + 1))
    journey.post("accounts:logout")
    journey.password()
    journey.code(codes[0])
    journey.post("accounts:logout")
    # A wrong password, then a reset.
    journey.password("not my password at all")
    journey.secrets.add("not my password at all")
    mail.outbox.clear()
    journey.post("accounts:password-reset", {"email": member.email})
    reset_url = re.search(r"https?://\S+/password-reset/\S+/\S+/", mail.outbox[-1].body).group(0)
    journey.secrets.add(reset_url.rstrip("/").rsplit("/", 1)[-1])
    form = journey.get(path_of(reset_url))
    journey.post_path = form.url
    response = journey.client.post(
        form.url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    journey.password(NEW_PASSWORD)
    journey.code(codes[1])

    log = "\n".join(all_logs.lines)
    assert "event=sign_in" in log  # the capture works: the security log is in it
    assert "SELECT" in log  # and so is SQL
    leaked = {
        secret
        for secret in journey.secrets
        if len(secret) >= 6 and (secret in log or secret in unquote(log))
    }
    where = [line[:200] for line in all_logs.lines if any(s in line for s in leaked)]
    assert not leaked, (leaked, where[:3])
