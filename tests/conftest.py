"""Shared fixtures: users in a team, a pending login, codes computed as an app would."""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from html import unescape
from http import HTTPStatus
from io import StringIO

import pyotp
import pytest
import time_machine
from django.contrib.auth import HASH_SESSION_KEY
from django.core import mail
from django.core.cache import cache
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import account_create, member_add
from security.events import Audit
from security.recovery_codes import services as recovery_code_services
from security.totp import codes as totp
from security.totp import services as totp_services

PASSWORD = "correct horse battery staple"

# The real OpenID provider and DNS server of the SSO tests, for tests/sso and tests/browser.
pytest_plugins = ["tests.sso.fixtures", "tests.staff"]


@pytest.fixture(autouse=True)
def _real_services_when_marked(request):
    """Tests marked ``postgres`` need PostgreSQL (parallel transactions) and Redis (a cache
    shared by processes). On a laptop without them they skip, saying why; in CI (CI=true),
    where .ci/run provides both, a missing one fails loudly instead of hiding a gap."""
    if request.node.get_closest_marker("postgres") is None:
        return
    from django.conf import settings as django_settings
    from django.db import connection

    missing = []
    if connection.vendor != "postgresql":
        missing.append("DATABASE_URL on PostgreSQL")
    if not django_settings.REDIS_URL:
        missing.append("REDIS_URL")
    if missing:
        message = "needs " + " and ".join(missing) + " (.ci/run provides both)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(autouse=True)
def _rate_limit_windows_start_with_the_test(monkeypatch):
    """django-ratelimit counts in fixed slices of the clock, each key's slice offset by a hash
    of the key: a test that counts up to a limit across the end of a slice saw its count start
    again, and failed at whatever second of the day that happened to be (seen once in a few
    hundred runs). Here every window of a test starts when the test does, and still ends, and
    starts again, when its period has passed (tests that move the clock on rely on that)."""
    import django_ratelimit.core

    start = int(time.time())

    def window_end(value, period: int) -> int:
        now = int(time.time())
        return now if period == 1 else now - (now - start) % period + period

    monkeypatch.setattr(django_ratelimit.core, "_get_window", window_end)


@pytest.fixture(autouse=True)
def _isolated(settings):
    """Each test starts with an empty shared cache (rate limits, sessions) and fast hashing;
    Argon2's own parameters are tested in tests/accounts/test_hashers.py."""
    cache.clear()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SITE_URL = "https://twofactor.example"
    settings.ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
    yield
    cache.clear()


class MailQueue:
    """Emails queued in the database, as in production, and this process as their worker."""

    def run(self) -> None:
        from unittest import mock

        from twofactor_site.mail.worker import tasks_run_ready

        # The worker drops connections that are not in autocommit; the test's transaction is
        # one of those, and it must stay open.
        with mock.patch(
            "django_tasks_db.management.commands.db_worker.close_old_connections", lambda: None
        ):
            tasks_run_ready()


@pytest.fixture
def mail_queue(settings) -> MailQueue:
    """The database task backend instead of the tests' immediate one: a request only queues
    its emails; ``mail_queue.run()`` sends what is ready, as ``manage.py mail_worker`` would."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.TWOFACTOR_EMAIL_RETRY_SECONDS = 0
    settings.TWOFACTOR_EMAIL_ORDER_WAIT_SECONDS = 0
    return MailQueue()


@pytest.fixture
def account_admin(db) -> User:
    _account, admin = account_create(
        name="Acme", admin_email="admin@acme.test", admin_password=PASSWORD
    )
    return admin


@pytest.fixture
def account(account_admin):
    return account_admin.account


@pytest.fixture
def member(account) -> User:
    return member_add(
        account=account, email="member@acme.test", password=PASSWORD, name="Mia Member"
    )


@pytest.fixture
def sso_member(account) -> User:
    return member_add(account=account, email="sso@acme.test", identity=User.Identity.SSO)


@pytest.fixture
def other_admin(db) -> User:
    _account, admin = account_create(
        name="Globex", admin_email="admin@globex.test", admin_password=PASSWORD
    )
    return admin


# Who asks, for services called without a request.
AUDIT = Audit(ip="127.0.0.1", user_agent="pytest")


def enroll_totp(user: User, *, client: Client | None = None) -> str:
    """Give ``user`` an active authenticator app; returns its secret. A factor change ends
    the user's sessions; ``client``'s goes on, as the settings page keeps its own."""
    totp_services.totp_enrollment_start(user=user)
    device = totp_services.enrollment_device(user=user)
    secret = totp_services.device_secret(device)
    # Confirm with the code of an earlier step, so the current one is still free for the test.
    # If a step boundary passes between reading the clock and confirming, that code is two
    # steps old and rightly refused: then (only then) confirm with the new previous step.
    step = totp.time_step(time.time()) - 1
    confirmed = totp_services.totp_device_confirm(
        audit=AUDIT, user=user, code=totp.code_at(secret, step)
    )
    if not confirmed and totp.time_step(time.time()) - 1 != step:
        step = totp.time_step(time.time()) - 1
        confirmed = totp_services.totp_device_confirm(
            audit=AUDIT, user=user, code=totp.code_at(secret, step)
        )
    assert confirmed
    factor_changed(user, client=client)
    return secret


def factor_changed(user: User, *, client: Client | None = None) -> None:
    """After a factor was added in a test's set-up: the change ended the user's sessions, but
    ``client``'s goes on (as the settings page keeps its own), and its notice is not counted."""
    if client is not None:
        session = client.session
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
    mail.outbox.clear()


@pytest.fixture
def member_with_totp(member):
    member.totp_secret = enroll_totp(member)
    return member


def recovery_codes_of(user: User, *, active: bool = True) -> list[str]:
    """The member's recovery codes in display form (those of an unfinished enrollment with
    ``active=False``)."""
    return [
        code for code, _used in recovery_code_services.recovery_codes_list(user=user, active=active)
    ]


def current_code(secret: str) -> str:
    """What an authenticator app shows now (computed independently, with pyotp's defaults)."""
    return pyotp.TOTP(secret).now()


def password_step(client: Client, email: str, password: str = PASSWORD, next_url: str = ""):
    data = {"email": email, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("accounts:login"), data)


def recovery_code_post(client: Client, code: str, **extra):
    """ "Use a recovery code instead", then ``code`` on that page."""
    client.post(reverse("accounts:login-switch"), {"step": "recovery-code"})
    return client.post(reverse("accounts:login-recovery-code"), {"recovery_code": code, **extra})


def link_from_outbox() -> str:
    """The sign-in link in the newest email."""
    body = mail.outbox[-1].body
    match = re.search(r"https?://\S+/login/link/[^/\s]+/", body)
    assert match, body
    return match.group(0)


def command_output(name: str, *args: str) -> str:
    """Run ``manage.py name *args`` in this process; what it printed."""
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def page_text(response) -> str:
    """The page as a person reads it: entities such as &#x27; unescaped, each run of
    whitespace one space (a sentence the template breaks across lines reads as one)."""
    return re.sub(r"\s+", " ", unescape(response.content.decode()))


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def assert_emailed_link_from_site_url(prefix: str) -> None:
    """The newest email's links start at ``prefix`` (SITE_URL), in its text and HTML parts,
    and never name the host the request came in on (localhost in these tests)."""
    message = mail.outbox[-1]
    html = message.alternatives[0][0]
    assert prefix in message.body and prefix in html
    assert "localhost" not in message.body
    assert "localhost" not in html


def sign_in_with_link(client: Client, email: str, password: str = PASSWORD, next_url: str = ""):
    """The password step, then the emailed link opened and its button pressed; the button's
    answer (the redirect to ``next_url`` or home)."""
    password_step(client, email, password, next_url)
    link = path_of(link_from_outbox())
    client.get(link)
    return client.post(reverse("accounts:login-link"))


# Filled-in URL arguments: numbers that name nothing, words that are no token.
_URL_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+):)?\w+>")


def site_paths(patterns=None, prefix: str = "") -> list[str]:
    """Every address of ours (the Django admin's own pages and the debug-only error previews
    aside), its arguments filled in: for properties every page must have."""
    found = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if route.startswith(("admin/", "_errors/")):
            continue
        if isinstance(entry, URLResolver):
            found += site_paths(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            filled = _URL_ARGUMENT.sub(
                lambda m: "999999" if m.group("converter") == "int" else "x", route
            )
            found.append("/" + filled)
    return found


def is_signed_in(client: Client) -> bool:
    """Whether ``client`` is signed in: its home page opens (a request, as a browser makes it,
    so it counts as use of the session). Otherwise it is sent to sign in (or to the step its
    pending login waits for, under /login/ too)."""
    response = client.get(reverse("home"))
    if response.status_code == HTTPStatus.OK:
        return True
    assert response.status_code == HTTPStatus.FOUND
    assert response.url.startswith(reverse("accounts:login"))
    return False


def race(*calls: Callable[[], object]) -> list:
    """Run ``calls`` at the same moment, each in its own thread with its own database
    connection; their results, in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = calls[index]()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


@pytest.fixture
def signed_in(client, member):
    sign_in_with_link(client, member.email)
    return client


@pytest.fixture
def admin_client(account_admin):
    client = Client()
    sign_in_with_link(client, account_admin.email)
    return client


class Clock:
    """The app's one clock (django.utils.timezone.now, and time.time with it), stopped by
    time-machine where it stood, so a test never straddles an authenticator time step, and
    moved only by hand: never sleep."""

    def __init__(self, traveller) -> None:
        self._traveller = traveller

    @property
    def now(self) -> float:
        return timezone.now().timestamp()

    def step(self) -> int:
        """The authenticator time step now."""
        return totp.time_step(self.now)

    def advance(
        self, *, seconds: float = 0, minutes: float = 0, hours: float = 0, days: float = 0
    ) -> None:
        delta = datetime.timedelta(seconds=seconds, minutes=minutes, hours=hours, days=days)
        self._traveller.shift(delta)


@pytest.fixture
def clock() -> Iterator[Clock]:
    with time_machine.travel(time.time(), tick=False) as traveller:
        yield Clock(traveller)


def pending_nonce(client: Client) -> str:
    """The nonce of the pending login this client holds (what binds its links to it)."""
    from accounts.login_flow import PENDING_LOGIN_SESSION_KEY

    return client.session[PENDING_LOGIN_SESSION_KEY]["nonce"]


def pytest_report_header(config):
    from django.conf import settings

    db = settings.DATABASES["default"]
    cache_backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return [f"database: {db['ENGINE'].rsplit('.', 1)[-1]} ({db['NAME']}); cache: {cache_backend}"]


def postgres_connect(dbname: str = ""):
    """A psycopg2 connection of its own, in autocommit, to the test database's server: to
    ``dbname``, or the test database itself (to end another connection, to NOTIFY, to make
    and drop databases)."""
    import psycopg2

    db = connections["default"].settings_dict
    raw = psycopg2.connect(
        dbname=dbname or db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"],
        port=db["PORT"] or 5432,
    )
    raw.autocommit = True
    return raw


def postgres_backend_end() -> int:
    """End the server side of Django's default connection from another connection, as a
    restart or an administrator would (``pg_terminate_backend``); its backend's pid."""
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    other = postgres_connect()
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            assert cursor.fetchone()[0] is True
    finally:
        other.close()
    return pid


def processes_stop(processes: list[subprocess.Popen], *, timeout: float = 15) -> None:
    """Ask each process still running to stop (SIGTERM), then wait for it; kill what does not
    stop within ``timeout`` seconds."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
