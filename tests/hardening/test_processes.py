"""Two real app processes (gunicorn, production settings) on one PostgreSQL and one Redis:
a session goes on from one to the other, and the login rate limit and the code lockout hold
across them. Runs only when DATABASE_URL is PostgreSQL and REDIS_URL is set (as in CI); the
processes use a database of their own, created and dropped here, and a redis-server of their
own on a free port."""

from __future__ import annotations

import re
import secrets
import subprocess
from http import HTTPStatus

import pyotp
import pytest
from django.conf import settings

from bench.loopback import LoopbackBrowser
from tests.conftest import postgres_connect, processes_stop
from tests.hardening.conftest import (
    PYTHON,
    REPO,
    PrivateRedis,
    free_port,
    manage,
    production_env,
    wait_for_port,
)

pytestmark = [pytest.mark.postgres]  # and Redis: see tests/conftest.py

PASSWORD = "processes passphrase 1234"
MAX_FAILED_CODES = 3
LOGIN_EMAIL_LIMIT = 4

SETUP = f"""
from accounts.services import account_create, member_add
from security.totp import services as totp_services
from security.events import Audit
import time
from security.totp import codes as totp
account, admin = account_create(name="Acme", admin_email="admin@acme.test", admin_password={PASSWORD!r})
for email in ("carry@acme.test", "locked@acme.test"):
    member = member_add(account=account, email=email, password={PASSWORD!r})
    totp_services.totp_enrollment_start(user=member)
    secret = totp_services.device_secret(totp_services.enrollment_device(user=member))
    code = totp.code_at(secret, totp.time_step(time.time()) - 1)
    assert totp_services.totp_device_confirm(audit=Audit(ip="127.0.0.1", user_agent="setup"), user=member, code=code)
    print("SECRET", email, secret)
"""


def _admin_connection():
    return postgres_connect("postgres")


def _database_url(name: str) -> str:
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def _terminate_backends(name: str) -> int:
    connection = _admin_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
            return cursor.fetchone()[0]
    finally:
        connection.close()


class Servers:
    def __init__(self, ports: list[int], secrets_by_email: dict[str, str], database: str):
        self.ports = ports
        self.secrets = secrets_by_email
        self.database = database


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    database = f"twofactor_hardening_{secrets.token_hex(4)}"
    # A Redis of their own: test runs elsewhere on the machine flush the shared one's
    # database (the suite's cache.clear()), which would pull sessions from under these.
    redis_server = PrivateRedis(tmp_path_factory.mktemp("redis"))
    redis_server.start()
    env = production_env(
        DATABASE_URL=_database_url(database),
        REDIS_URL=redis_server.url,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="0",
        STATIC_ROOT=str(tmp_path_factory.mktemp("static")),
        TWOFACTOR_MAX_FAILED_CODES=str(MAX_FAILED_CODES),
        RATELIMIT_LOGIN_EMAIL=f"{LOGIN_EMAIL_LIMIT}/10m",
    )
    admin = _admin_connection()
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{database}"')
    processes: list[subprocess.Popen] = []
    try:
        for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
            result = manage(*command, env=env)
            assert result.returncode == 0, result.stderr[-2000:]
        result = manage("shell", "-c", SETUP, env=env)
        assert result.returncode == 0, result.stderr[-2000:]
        found = dict(re.findall(r"^SECRET (\S+) (\S+)$", result.stdout, re.M))
        ports = [free_port(), free_port()]
        for port in ports:
            processes.append(
                subprocess.Popen(  # noqa: S603
                    [
                        PYTHON,
                        "-m",
                        "gunicorn",
                        "twofactor_site.wsgi",
                        "--bind",
                        f"127.0.0.1:{port}",
                        "--workers",
                        "1",
                        "--timeout",
                        "30",
                    ],
                    cwd=REPO,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        for port, process in zip(ports, processes):
            wait_for_port(port, process=process, timeout=30)
        yield Servers(ports, found, database)
    finally:
        processes_stop(processes)
        _terminate_backends(database)
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{database}"')
        admin.close()
        redis_server.stop()


class Browser(LoopbackBrowser):
    def __init__(self) -> None:
        super().__init__(user_agent="hardening-processes", timeout=20)

    def request(self, port: int, method: str, path: str, form: dict | None = None):
        response = self.send(port, method, path, form)
        return response.status, response.headers, response.body

    def get(self, port: int, path: str):
        return self.request(port, "GET", path)

    def post(self, port: int, path: str, form: dict):
        if "csrftoken" not in self.cookies:
            self.get(port, "/login/")
        return self.request(port, "POST", path, form)


def _password(browser: Browser, port: int, email: str, password: str = PASSWORD):
    return browser.post(port, "/login/", {"email": email, "password": password})


def test_session_started_on_one_process_continues_on_the_other(servers):
    one, other = servers.ports
    browser = Browser()
    status, headers, _ = _password(browser, one, "carry@acme.test")
    assert status == HTTPStatus.FOUND and headers["Location"] == "/login/code/"
    status, _, page = browser.get(other, "/login/code/")
    assert status == HTTPStatus.OK, page[:500]
    code = pyotp.TOTP(servers.secrets["carry@acme.test"]).now()
    status, headers, _ = browser.post(other, "/login/code/", {"code": code})
    assert status == HTTPStatus.FOUND, status
    status, headers, page = browser.get(one, "/")
    assert status == HTTPStatus.OK
    assert "carry@acme.test" in page
    # A production process sends the headers without any help from the test settings.
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"]

    # PostgreSQL drops every connection (as in a restart): the next requests still work.
    assert _terminate_backends(servers.database) >= 1
    for port in (one, other):
        status, _, page = browser.get(port, "/")
        assert status == HTTPStatus.OK, page[:300]


def test_login_rate_limit_holds_across_processes(servers):
    statuses = []
    for attempt in range(LOGIN_EMAIL_LIMIT + 1):
        port = servers.ports[attempt % 2]
        status, _, _ = _password(Browser(), port, "limited@acme.test", "wrong password")
        statuses.append(status)
    assert statuses == [HTTPStatus.BAD_REQUEST] * LOGIN_EMAIL_LIMIT + [HTTPStatus.TOO_MANY_REQUESTS]


def test_code_lockout_holds_across_processes_and_sessions(servers):
    one, other = servers.ports
    failures = [(one, "000001"), (one, "000002"), (other, "000003")]
    for port, wrong in failures:
        browser = Browser()  # a fresh session for each try
        status, _, _ = _password(browser, port, "locked@acme.test")
        assert status == HTTPStatus.FOUND
        browser.post(port, "/login/code/", {"code": wrong})
    browser = Browser()
    _password(browser, one, "locked@acme.test")
    right = pyotp.TOTP(servers.secrets["locked@acme.test"]).now()
    status, _, _ = browser.post(one, "/login/code/", {"code": right})
    assert status == HTTPStatus.TOO_MANY_REQUESTS
    status, headers, _ = browser.get(other, "/")
    assert status == HTTPStatus.FOUND  # not signed in


def test_static_files_are_served_under_hashed_names_for_a_year(servers):
    browser = Browser()
    status, _, page = browser.get(servers.ports[0], "/login/")
    assert status == HTTPStatus.OK
    addresses = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
    assert addresses, page[:500]
    for address in addresses:
        # The manifest's name (hashed content), the same on every page and process.
        assert re.search(r"\.[0-9a-f]{12}\.(css|js|svg|png|ico)$", address), address
        status, headers, _ = browser.get(servers.ports[1], address)
        assert status == HTTPStatus.OK, address
        assert "immutable" in headers["Cache-Control"], headers["Cache-Control"]
    _, _, again = browser.get(servers.ports[1], "/login/")
    assert re.findall(r'(?:href|src)="(/static/[^"]+)"', again) == addresses
