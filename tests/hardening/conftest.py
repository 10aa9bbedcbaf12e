"""Helpers for the hardening tests: production settings, private servers on free ports,
clients that behave like a browser (CSRF enforced, no exceptions re-raised)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.test import Client

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
CSRF_SECRET = "a" * 16 + "B" * 16  # a well-formed 32-character CSRF secret


def production_env(**extra: str) -> dict[str, str]:
    """The environment of a production process: no debug, real secrets, HTTPS site."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "PYTEST", "SECURE_", "SESSION_", "RATELIMIT_"))
    }
    env.update(
        SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_DEBUG="0",
        ALLOWED_HOSTS="twofactor.example,127.0.0.1",
        REDIS_URL=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/1"),
        DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/twofactor"),
        TWOFACTOR_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        SITE_URL="https://twofactor.example",
        DJANGO_SETTINGS_MODULE="twofactor_site.settings",
    )
    env.update(extra)
    return env


def manage(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603
        [PYTHON, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# Settings a production process computes that a request in this test process should follow.
APPLIED_SECURITY_SETTINGS = [
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "X_FRAME_OPTIONS",
]


@pytest.fixture(scope="session")
def production_settings() -> dict:
    """The security settings as a production process computes them from its environment."""
    names = [
        *APPLIED_SECURITY_SETTINGS,
        "DEBUG",
        "SILENCED_SYSTEM_CHECKS",
        "SESSION_ENGINE",
        "SESSION_IDLE_MINUTES",
        "SESSION_ABSOLUTE_HOURS",
    ]
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}))"
    )
    result = subprocess.run(  # noqa: S603
        [PYTHON, "-c", code], cwd=REPO, env=production_env(), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, timeout: float = 15.0, process=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process on port {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


# --- Browser-like clients ----------------------------------------------------------------


def browser(client: Client | None = None) -> Client:
    """A client that enforces CSRF like a browser session and answers errors with pages
    instead of raising, so a 500 shows as a 500."""
    client = client or Client()
    client.handler.enforce_csrf_checks = True
    client.raise_request_exception = False
    return client


def csrf_headers(client: Client) -> dict[str, str]:
    """Give ``client`` a known CSRF cookie and return the header that matches it."""
    client.cookies[settings.CSRF_COOKIE_NAME] = CSRF_SECRET
    return {"HTTP_X_CSRFTOKEN": CSRF_SECRET}


def post(client: Client, path: str, data: dict | None = None, **extra):
    """POST a form with a valid CSRF token, as the page's own form would."""
    return client.post(path, data or {}, **csrf_headers(client), **extra)


# --- A private Redis ---------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of our own on a free port, never the machine's shared one."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.dir = tmp_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed")
        self.process = subprocess.Popen(  # noqa: S603
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port, process=self.process)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def private_redis(tmp_path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


# --- A tiny SMTP server ------------------------------------------------------------------


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for Django's backend: EHLO, MAIL, RCPT, DATA, QUIT; or a 554 to all.
    Each reply waits the server's ``delay`` first, as a distant or busy mail server does."""

    def _say(self, line: str) -> None:
        if self.server.delay:
            time.sleep(self.server.delay)
        self.wfile.write((line + "\r\n").encode())

    def handle(self) -> None:
        server = self.server
        if server.refuse:
            self._say("554 No SMTP service here")
            return
        self._say("220 localhost ready")
        message: list[str] = []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            verb = raw.decode("utf-8", "replace").strip().upper()
            if verb.startswith(("EHLO", "HELO")):
                self._say("250 localhost")
            elif verb.startswith(("MAIL", "RCPT", "RSET", "NOOP")):
                self._say("250 OK")
            elif verb == "DATA":
                self._say("354 End data with <CR><LF>.<CR><LF>")
                message = []
                while True:
                    line = self.rfile.readline().decode("utf-8", "replace")
                    if line in (".\r\n", ".\n", ""):
                        break
                    message.append(line)
                server.messages.append("".join(message))
                self._say("250 OK queued")
            elif verb == "QUIT":
                self._say("221 Bye")
                return
            else:
                self._say("502 Command not implemented")


class PrivateSMTP(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, *, refuse: bool = False, delay: float = 0.0) -> None:
        super().__init__(("127.0.0.1", 0), _SMTPHandler)
        self.refuse = refuse
        self.delay = delay
        self.messages: list[str] = []
        self.port = self.server_address[1]
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.shutdown()
        self.server_close()


@pytest.fixture
def private_smtp() -> Iterator[PrivateSMTP]:
    server = PrivateSMTP()
    yield server
    server.close()


def use_smtp(settings, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 2
