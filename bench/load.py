"""`make bench-load`: complete sign-ins against gunicorn, the way users run it, and what each
one costs the server.

Starts gunicorn (sync workers) with production settings (bench/settings.py: DEBUG off, a fresh
SECRET_KEY and TWOFACTOR_ENCRYPTION_KEYS, rate limits on) on the PostgreSQL and Redis of
DATABASE_URL and REDIS_URL, in a database of its own (``<name>_bench``, made and dropped here)
and under a key prefix of its own in Redis (deleted at the end). It seeds members
(bench/seed.py), runs a mail sink for the emailed links, and drives N concurrent clients, each
doing complete sign-ins for a fixed time:

- ``totp``: GET /login/, POST the password, GET the code page, POST a TOTP code, GET /.
- ``link``: GET /login/, POST the password, GET "check your email", open the link read from
  the mail sink (GET /login/link/<token>/ and the page it redirects to), POST its Sign in
  button, GET /.
- ``bare``: GET of a view that does nothing, through the same middleware: the floor.

Every response is checked (status, redirect target, the page's content, the signed-in page
naming the member); a wrong answer is an error and the run exits 1. For each hasher (the
production Argon2id, and Django's MD5 as the fast one) and each worker count it reports
flows/s, p50/p95/p99 per step, SQL per step, and the server CPU per flow from /proc:
gunicorn (master and workers), the PostgreSQL backends of the bench database, and Redis. The
CPU is read before the clients start and after the last flow ended, so it belongs to exactly
the flows counted.

Rate limits stay on with their production rates per member (each member signs in at most a
few times per run); the per-address limits are raised through the environment, because every
bench client comes from 127.0.0.1 (they are still counted in Redis on every request).

Only 127.0.0.1 is ever contacted; every loop is bounded in count and time.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import socket
import socketserver
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pyotp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import cpuprof  # noqa: E402
from bench.loopback import LOOPBACK, LoopbackBrowser  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
README = ROOT / "README.md"
README_START, README_END = "<!-- bench-load:start -->", "<!-- bench-load:end -->"
# Per-address limits: every bench client is 127.0.0.1. Counted, never reached.
RAISED_RATES = {
    "RATELIMIT_LOGIN_IP": "1000000/10m",
    "RATELIMIT_CODE_IP": "1000000/10m",
    "RATELIMIT_RESEND_IP": "1000000/10m",
}
# Production's RATELIMIT_LOGIN_EMAIL is 10/10m: the driver signs each member in fewer times
# than that per server start (each start has a key prefix of its own).
LOGIN_EMAIL_BUDGET = 8
MAX_RUN_SECONDS = 20 * 60
HTTP_TIMEOUT = 30


class BenchError(Exception):
    """A wrong answer from the server, or a bench that cannot run as asked."""


# --- /proc ---------------------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """CPU time of every thread of ``pid`` so far (schedstat, in nanoseconds; where the kernel
    has none, stat's clock ticks). None when the process is gone."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
        total = 0
        for task in tasks:
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
        return total / 1e9
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    except (OSError, ValueError, IndexError):
        return None


def children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(p) for p in f.read().split()]
    except OSError:
        pass
    return found


def postgres_backends(database: str) -> list[int]:
    """PostgreSQL backends serving ``database`` on this machine (their process titles)."""
    marker = f" {database} ".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                title = f.read(200)
        except OSError:
            continue
        if title.startswith(b"postgres: ") and marker in title:
            found.append(int(entry))
    return found


class CPUMeter:
    """Accumulated CPU of gunicorn, the bench database's PostgreSQL backends and Redis between
    ``start`` and ``stop``. A thread polls every 0.2 s so that a backend which exits (its
    connection reached CONN_MAX_AGE) keeps what it used until its last poll."""

    def __init__(self, *, gunicorn_pid: int, database: str, redis_pid: int | None) -> None:
        self.gunicorn_pid, self.database, self.redis_pid = gunicorn_pid, database, redis_pid
        self._base: dict[tuple[str, int], float] = {}
        self._last: dict[tuple[str, int], float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _processes(self) -> list[tuple[str, int]]:
        procs = [("gunicorn", self.gunicorn_pid)]
        procs += [("gunicorn", pid) for pid in children(self.gunicorn_pid)]
        procs += [("postgres", pid) for pid in postgres_backends(self.database)]
        if self.redis_pid:
            procs.append(("redis", self.redis_pid))
        return procs

    def _poll(self) -> None:
        for key in self._processes():
            used = cpu_seconds(key[1])
            if used is None:
                continue
            self._base.setdefault(key, 0.0)  # born during the run: all of it counts
            self._last[key] = used

    def start(self) -> None:
        self._base, self._last = {}, {}
        for key in self._processes():
            used = cpu_seconds(key[1])
            if used is not None:
                self._base[key] = self._last[key] = used
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._poll()

    def stop(self) -> dict[str, float]:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self._poll()
        used: dict[str, float] = collections.defaultdict(float)
        for key, last in self._last.items():
            used[key[0]] += max(0.0, last - self._base.get(key, 0.0))
        return {name: used.get(name, 0.0) for name in ("gunicorn", "postgres", "redis")}


# --- The mail sink -------------------------------------------------------------------------


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Enough SMTP for Django's backend. Keeps the body of each message by recipient."""

    def handle(self) -> None:
        say = lambda line: self.wfile.write((line + "\r\n").encode())  # noqa: E731
        say("220 bench sink")
        recipients: list[str] = []
        while True:
            raw = self.rfile.readline(4096)
            if not raw:
                return
            line = raw.decode("utf-8", "replace").strip()
            verb = line.upper()
            if verb.startswith(("EHLO", "HELO")):
                say("250 bench")
            elif verb.startswith("MAIL"):
                recipients = []
                say("250 OK")
            elif verb.startswith("RCPT"):
                match = re.search(r"<([^>]*)>", line)
                recipients.append((match.group(1) if match else "").lower())
                say("250 OK")
            elif verb.startswith(("RSET", "NOOP")):
                say("250 OK")
            elif verb == "DATA":
                say("354 go ahead")
                body = []
                for _ in range(10_000):  # bounded: our messages are a few dozen lines
                    chunk = self.rfile.readline(65536).decode("utf-8", "replace")
                    if chunk in (".\r\n", ".\n", ""):
                        break
                    body.append(chunk)
                self.server.deliver(recipients, "".join(body))
                say("250 OK queued")
            elif verb == "QUIT":
                say("221 bye")
                return
            else:
                say("502 not here")


class MailSink(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__((LOOPBACK, 0), _SMTPHandler)
        self.port = self.server_address[1]
        self._mail: dict[str, str] = {}
        self._arrived = threading.Condition()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    def deliver(self, recipients: list[str], body: str) -> None:
        with self._arrived:
            for recipient in recipients:
                self._mail[recipient] = body
            self._arrived.notify_all()

    def take(self, recipient: str, timeout: float = 10.0) -> str:
        """The newest message to ``recipient``, removed from the sink."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: recipient in self._mail, timeout=timeout):
                raise BenchError(f"no email reached the sink for {recipient}")
            return self._mail.pop(recipient)

    def close(self) -> None:
        self.shutdown()
        self.server_close()


# --- One browser ---------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    location: str
    body: str
    sql: dict[str, int]
    app_cpu_us: int
    seconds: float


class Browser(LoopbackBrowser):
    """The bench's browser on one server: each answer with the SQL and CPU the server
    reported for it (bench/server.py)."""

    def __init__(self, port: int) -> None:
        super().__init__(user_agent="twofactor-bench-load/1", timeout=HTTP_TIMEOUT)
        self.port = port

    def request(self, method: str, path: str, form: dict | None = None) -> Answer:
        response = self.send(self.port, method, path, form)
        sql = dict(
            item.split("=", 1) for item in response.headers.get("X-Bench-SQL", "").split() if item
        )
        return Answer(
            status=response.status,
            location=response.headers.get("Location", ""),
            body=response.body,
            sql={key: int(value) for key, value in sql.items()},
            app_cpu_us=int(response.headers.get("X-Bench-CPU-us", "0")),
            seconds=response.seconds,
        )


# --- Flows ---------------------------------------------------------------------------------


@dataclass
class StepStats:
    seconds: list[float] = field(default_factory=list)
    sql: list[dict[str, int]] = field(default_factory=list)
    app_cpu_us: list[int] = field(default_factory=list)


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.steps: dict[str, StepStats] = {}
        self.flows = 0
        self.errors: list[str] = []

    def step(self, name: str, answer: Answer) -> None:
        with self.lock:
            stats = self.steps.setdefault(name, StepStats())
            stats.seconds.append(answer.seconds)
            stats.sql.append(answer.sql)
            stats.app_cpu_us.append(answer.app_cpu_us)


def expect(step: str, answer: Answer, status: int, *, location: str = "", text: str = "") -> None:
    if answer.status != status:
        raise BenchError(f"{step}: status {answer.status}, expected {status}")
    if location and urlsplit(answer.location).path != location:
        raise BenchError(f"{step}: redirected to {answer.location!r}, expected {location!r}")
    if text and text not in answer.body:
        raise BenchError(f"{step}: the page does not contain {text!r}")


class Members:
    """Members handed to one client at a time. Each is signed in at most LOGIN_EMAIL_BUDGET
    times per server start; an app member only with a time step later than the last one it
    used (the server accepts a step once, and one step of drift)."""

    def __init__(self, emails: list[str]) -> None:
        self.free = collections.deque(emails)
        self.lock = threading.Lock()
        self.uses: collections.Counter[str] = collections.Counter()
        self.last_step: dict[str, int] = {}

    def new_server(self) -> None:
        with self.lock:
            self.uses.clear()

    def _usable(self, email: str, totp: bool) -> bool:
        if self.uses[email] >= LOGIN_EMAIL_BUDGET:
            return False
        return not totp or self.next_step(email) is not None

    def next_step(self, email: str) -> int | None:
        # Never the previous step: the window could move past it before the code arrives.
        now = int(time.time() // 30)
        step = max(now, self.last_step.get(email, -1) + 1)
        return step if step <= now + 1 else None

    def take(self, *, totp: bool) -> str:
        with self.lock:
            for _ in range(len(self.free)):
                email = self.free.popleft()
                if self._usable(email, totp):
                    self.uses[email] += 1
                    return email
                self.free.append(email)
        raise BenchError("every seeded member is busy or used up: seed more (--members)")

    def give_back(self, email: str) -> None:
        with self.lock:
            self.free.append(email)


class Driver:
    def __init__(self, *, port: int, seed: dict, sink: MailSink) -> None:
        self.port, self.sink = port, sink
        self.password = seed["password"]
        self.secrets: dict[str, str] = seed["app"]
        self.app = Members(sorted(seed["app"]))
        self.link = Members(sorted(seed["link"]))

    def _sign_in_start(self, rec: Recorder, browser: Browser, email: str, after: str) -> None:
        answer = browser.request("GET", "/login/")
        expect("login page", answer, 200, text='name="password"')
        rec.step("GET login", answer)
        answer = browser.request("POST", "/login/", {"email": email, "password": self.password})
        expect("password POST", answer, 302, location=after)
        rec.step("POST password", answer)

    def _signed_in(self, rec: Recorder, browser: Browser, email: str) -> None:
        answer = browser.request("GET", "/")
        expect("signed-in page", answer, 200, text=email)
        rec.step("GET signed-in page", answer)

    def totp(self, rec: Recorder) -> None:
        email = self.app.take(totp=True)
        try:
            browser = Browser(self.port)
            self._sign_in_start(rec, browser, email, "/login/code/")
            answer = browser.request("GET", "/login/code/")
            expect("code page", answer, 200, text='name="code"')
            rec.step("GET code page", answer)
            step = self.app.next_step(email)
            if step is None:
                raise BenchError("no time step left for this member")
            self.app.last_step[email] = step
            code = pyotp.TOTP(self.secrets[email]).at(step * 30)
            answer = browser.request("POST", "/login/code/", {"code": code})
            expect("code POST", answer, 302, location="/")
            rec.step("POST code", answer)
            self._signed_in(rec, browser, email)
        finally:
            self.app.give_back(email)

    def link_flow(self, rec: Recorder) -> None:
        email = self.link.take(totp=False)
        try:
            browser = Browser(self.port)
            self._sign_in_start(rec, browser, email, "/login/email-sent/")
            answer = browser.request("GET", "/login/email-sent/")
            expect("check-your-email page", answer, 200, text=email)
            rec.step("GET email-sent page", answer)
            message = self.sink.take(email)
            match = re.search(
                rf"http://{re.escape(LOOPBACK)}:{self.port}(/login/link/[A-Za-z0-9_\-]+/)", message
            )
            if not match:
                raise BenchError("the email holds no sign-in link")
            answer = browser.request("GET", match.group(1))
            expect("link GET", answer, 302, location="/login/link/")
            rec.step("GET link (token)", answer)
            answer = browser.request("GET", "/login/link/")
            expect("link page", answer, 200, text='action="/login/link/"')
            rec.step("GET link page", answer)
            answer = browser.request("POST", "/login/link/", {})
            expect("link POST", answer, 302, location="/")
            rec.step("POST link", answer)
            self._signed_in(rec, browser, email)
        finally:
            self.link.give_back(email)

    def bare(self, rec: Recorder) -> None:
        answer = Browser(self.port).request("GET", "/bench/bare/")
        expect("bare view", answer, 200, text="ok")
        rec.step("GET bare view", answer)

    def run(self, flow: str, *, clients: int, seconds: float, max_flows: int) -> Recorder:
        """``clients`` threads doing ``flow`` until ``seconds`` have passed or ``max_flows``
        were started; each finishes the flow it is in."""
        rec = Recorder()
        do = {"totp": self.totp, "link": self.link_flow, "bare": self.bare}[flow]
        deadline = time.monotonic() + seconds
        started = collections.Counter()

        def client() -> None:
            while time.monotonic() < deadline:
                with rec.lock:
                    if started["n"] >= max_flows:
                        return
                    started["n"] += 1
                try:
                    do(rec)
                except (BenchError, OSError, http.client.HTTPException) as exc:
                    with rec.lock:
                        rec.errors.append(f"{flow}: {exc}")
                    if len(rec.errors) > 20:
                        return
                else:
                    with rec.lock:
                        rec.flows += 1

        threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(seconds + HTTP_TIMEOUT * 8)
        return rec


# --- The server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"gunicorn exited with {process.returncode} (see its log)")
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise BenchError(f"gunicorn did not listen on {port} within {timeout} s")


def loopback_only(url: str, name: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise BenchError(f"{name} must point at this machine (127.0.0.1); got host {host!r}")


class Database:
    """The bench's own database on DATABASE_URL's server (``<name><suffix>``), dropped when
    done."""

    def __init__(self, url: str, *, suffix: str = "_bench") -> None:
        import psycopg2

        parts = urlsplit(url)
        if parts.scheme not in ("postgres", "postgresql", "pgsql"):
            raise BenchError("DATABASE_URL must be PostgreSQL: postgres://user@127.0.0.1/name")
        loopback_only(url, "DATABASE_URL")
        self.name = unquote(parts.path.lstrip("/")) + suffix
        self.url = parts._replace(path="/" + self.name).geturl()
        self._connect = lambda: psycopg2.connect(
            dbname="postgres",
            user=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            host=parts.hostname,
            port=parts.port or 5432,
        )

    def _admin(self, *statements: tuple[str, list]) -> list:
        connection = self._connect()
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                out = []
                for sql, params in statements:
                    cursor.execute(sql, params)
                    out.append(cursor.fetchall() if cursor.description else None)
                return out
        finally:
            connection.close()

    def version(self) -> str:
        return self._admin(("SHOW server_version", []))[0][0][0]

    def create(self) -> None:
        self.drop()
        self._admin((f'CREATE DATABASE "{self.name}"', []))

    def drop(self) -> None:
        self._admin(
            (
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [self.name],
            ),
            (f'DROP DATABASE IF EXISTS "{self.name}"', []),
        )


class Redis:
    def __init__(self, url: str, *, private: bool, workdir: Path) -> None:
        import redis

        self.process: subprocess.Popen | None = None
        if private:
            binary = shutil.which("redis-server")
            if not binary:
                raise BenchError("--private-redis needs redis-server")
            port = free_port()
            self.process = subprocess.Popen(  # noqa: S603
                [binary, "--port", str(port), "--bind", LOOPBACK, "--save", "", "--appendonly",
                 "no", "--dir", str(workdir)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            url = f"redis://{LOOPBACK}:{port}/0"
            for _ in range(100):
                try:
                    redis.Redis.from_url(url).ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
        loopback_only(url, "REDIS_URL")
        self.url = url
        self.client = redis.Redis.from_url(url)
        info = self.client.info("server")
        self.version = info.get("redis_version", "?")
        pid = int(info.get("process_id", 0))
        self.pid = pid if pid and Path(f"/proc/{pid}").exists() else None

    def forget(self, prefix: str) -> None:
        """Delete the keys one server start made (bounded: a run makes a few thousand)."""
        cursor, rounds = 0, 0
        while rounds < 10_000:
            cursor, keys = self.client.scan(cursor, match=f"{prefix}:*", count=1000)
            if keys:
                self.client.delete(*keys)
            rounds += 1
            if cursor == 0:
                break

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)


class Server:
    """gunicorn with ``workers`` sync workers and production settings."""

    def __init__(self, env: dict[str, str], *, workers: int, log: Path) -> None:
        self.port = free_port()
        self.prefix = "bench-" + secrets.token_hex(4)
        self.env = {
            **env,
            "SITE_URL": f"http://{LOOPBACK}:{self.port}",
            "CACHE_KEY_PREFIX": self.prefix,
        }
        self.log = log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603
            [PYTHON, "-m", "gunicorn", "twofactor_site.wsgi", "--bind",
             f"{LOOPBACK}:{self.port}", "--workers", str(workers), "--worker-class", "sync",
             "--timeout", "60"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=self.log,
        )
        wait_for_port(self.port, self.process)
        deadline = time.monotonic() + 60
        while len(children(self.process.pid)) < workers and time.monotonic() < deadline:
            time.sleep(0.1)

    def workers(self) -> list[int]:
        return children(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.log.close()


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(  # noqa: S603
        [PYTHON, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        raise BenchError(f"{' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


# --- Reporting -----------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def sql_summary(samples: list[dict[str, int]]) -> str:
    """The most common count per request: statements, then +tx and +hc when present."""
    if not samples or not samples[0]:
        return "?"
    keyed = collections.Counter(tuple(sorted(s.items())) for s in samples)
    common = dict(keyed.most_common(1)[0][0])
    text = str(common.get("sql", 0) + common.get("sp", 0))
    if common.get("tx"):
        text += f" +{common['tx']}tx"
    if common.get("hc"):
        text += f" +{common['hc']}hc"
    return text + ("*" if len(keyed) > 1 else "")


@dataclass
class Segment:
    hasher: str
    workers: int
    flow: str
    flows: int
    seconds: float
    cpu: dict[str, float]
    steps: dict[str, StepStats]

    @property
    def cpu_ms_per_flow(self) -> float:
        return 1000 * sum(self.cpu.values()) / self.flows if self.flows else 0.0

    def part_ms(self, name: str) -> float:
        return 1000 * self.cpu[name] / self.flows if self.flows else 0.0


def machine() -> dict[str, str]:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = os.getloadavg()
    return {
        "cpu": model or platform.processor() or "?",
        "cores": str(os.cpu_count()),
        "load": f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f}",
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def commit() -> str:
    try:
        out = subprocess.run(  # noqa: S603
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return out.stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def print_segment(seg: Segment) -> None:
    rate = seg.flows / seg.seconds if seg.seconds else 0
    cpu = seg.cpu_ms_per_flow
    parts = " + ".join(f"{name} {seg.part_ms(name):.1f}" for name in seg.cpu)
    print(
        f"\n{seg.flow} · {seg.hasher} hasher · {seg.workers} worker(s): {seg.flows} flows in "
        f"{seg.seconds:.1f} s = {rate:.1f}/s · server CPU {cpu:.1f} ms per flow ({parts})"
    )
    print(f"  {'step':22} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'app CPU ms':>10}  SQL")
    for name, stats in seg.steps.items():
        ms = [s * 1000 for s in stats.seconds]
        app = statistics.median(stats.app_cpu_us) / 1000 if stats.app_cpu_us else 0
        print(
            f"  {name:22} {percentile(ms, 50):7.1f} {percentile(ms, 95):7.1f} "
            f"{percentile(ms, 99):7.1f} {app:10.2f}  {sql_summary(stats.sql)}"
        )


def markdown(segments: list[Segment], meta: dict[str, str], args) -> str:
    by = {(s.hasher, s.workers, s.flow): s for s in segments}
    lines = [
        f"Measured {meta['date']} on {meta['cpu']}, {meta['cores']} cores (load average "
        f"{meta['load']} at the start, {meta['load_end']} at the end: {meta['shared']}), Python "
        f"{meta['python']}, PostgreSQL {meta['postgres']}, Redis {meta['redis']}, gunicorn sync "
        f"workers, {args.clients} concurrent clients, {args.seconds:g} s per row, commit "
        f"{meta['commit']}. Server CPU is gunicorn + PostgreSQL backends + Redis, from /proc, "
        "per complete flow; SQL counts statements per request (`+Ntx`: N transactions, each a "
        "BEGIN and a COMMIT, not in the count; `+Nhc`: connection health checks, `SELECT 1`).",
        "",
        "| hasher | workers | flow | flows/s | server CPU ms/flow | gunicorn | PostgreSQL | Redis "
        "| vs 5 bare requests |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for seg in segments:
        bare = by.get((seg.hasher, seg.workers, "bare"))
        ratio = ""
        if seg.flow != "bare" and bare and bare.cpu_ms_per_flow:
            ratio = f"{seg.cpu_ms_per_flow / (5 * bare.cpu_ms_per_flow):.1f}×"
        name = {"totp": "TOTP", "link": "email link", "bare": "bare view (1 request)"}[seg.flow]
        lines.append(
            f"| {seg.hasher} | {seg.workers} | {name} | {seg.flows / seg.seconds:.1f} | "
            f"{seg.cpu_ms_per_flow:.{2 if seg.flow == 'bare' else 1}f} | "
            f"{seg.part_ms('gunicorn'):.{2 if seg.flow == 'bare' else 1}f} | "
            f"{seg.part_ms('postgres'):.1f} | {seg.part_ms('redis'):.2f} | {ratio} |"
        )
    # Steps of the largest worker count with the fast hasher (else the first there is).
    pick = [s for s in segments if s.flow != "bare"]
    if pick:
        top = max(s.workers for s in pick)
        hasher = "fast" if any(s.hasher == "fast" for s in pick) else pick[0].hasher
        lines += [
            "",
            f"Per step ({hasher} hasher, {top} worker{'s' if top > 1 else ''}): latency as the clients saw it, the "
            "worker's CPU inside Django (median), SQL per request.",
            "",
            "| flow | step | p50 ms | p95 ms | p99 ms | app CPU ms | SQL |",
            "|---|---|---|---|---|---|---|",
        ]
        for seg in pick:
            if seg.workers != top or seg.hasher != hasher:
                continue
            for step, stats in seg.steps.items():
                ms = [s * 1000 for s in stats.seconds]
                app = statistics.median(stats.app_cpu_us) / 1000 if stats.app_cpu_us else 0
                lines.append(
                    f"| {seg.flow} | {step} | {percentile(ms, 50):.1f} | {percentile(ms, 95):.1f}"
                    f" | {percentile(ms, 99):.1f} | {app:.2f} | {sql_summary(stats.sql)} |"
                )
    return "\n".join(lines)


def readme_write(table: str) -> None:
    text = README.read_text()
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise BenchError(f"README.md has no {README_START} … {README_END} block")
    README.write_text(text[: start + len(README_START)] + "\n" + table + "\n" + text[end:])


# --- Profiling -----------------------------------------------------------------------------


def py_spy() -> str:
    binary = shutil.which("py-spy") or str(Path(PYTHON).parent / "py-spy")
    if not Path(binary).exists():
        raise BenchError("py-spy is not installed: make profile installs the bench extra")
    return binary


# Where CPU goes, by the file of the innermost frame: what the breakdown names.
CATEGORIES = [
    ("ORM: building and compiling queries", ("django/db/models/",)),
    ("database driver and connection", ("django/db/backends/", "django/db/utils", "django/db/__init__",
                                        "django/db/transaction", "psycopg2/", "bench/pgcount")),
    ("templates", ("django/template/", "django/templatetags/")),
    ("Redis client and cache", ("redis/", "django_redis/", "django/core/cache/")),
    ("sessions, auth, messages", ("django/contrib/sessions/", "django/contrib/auth/",
                                  "django/contrib/messages/")),
    ("crypto (Fernet, HMAC, TOTP)", ("cryptography/", "hmac", "hashlib", "pyotp/", "secrets",
                                     "django/utils/crypto", "base64")),
    ("forms", ("django/forms/",)),
    ("mail", ("smtplib", "email/", "django/core/mail/")),
    ("our code", ("accounts/", "security/", "twofactor_site/")),
    ("gunicorn and HTTP parsing", ("gunicorn/", "http/", "socket", "selectors")),
    ("Django request handling, URLs, middleware", ("django/",)),
]


def _category(path: str) -> str:
    for name, prefixes in CATEGORIES:
        if path.startswith(prefixes):
            return name
    return "other (stdlib, libraries)"


def profile_summary(collapsed: str, flows: int, out: Path) -> str:
    """CPU samples (microseconds per stack) as milliseconds per flow: by category, our
    functions (inclusive), and the busiest library functions (self)."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    categories: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        for key in set(frames):
            path = key.rsplit(" (", 1)[-1]
            if path.startswith(("accounts/", "security/", "twofactor_site/")):
                inclusive[key] += count
        own[frames[-1]] += count
        categories[_category(frames[-1].rsplit(" (", 1)[-1])] += count
    ms = lambda n: n / 1000 / max(flows, 1)  # noqa: E731
    lines = [f"{total / 1e6:.2f} s of worker CPU sampled over {flows} flows: {ms(total):.1f} ms "
             "per flow", "", "by category (self time), ms per flow:"]
    lines += [f"  {ms(n):6.2f}  {key}" for key, n in categories.most_common()]
    lines += ["", "our functions, inclusive, ms per flow:"]
    lines += [f"  {ms(n):6.2f}  {key}" for key, n in inclusive.most_common(40)]
    lines += ["", "busiest functions (self), ms per flow:"]
    lines += [f"  {ms(n):6.2f}  {key}" for key, n in own.most_common(30)]
    text = "\n".join(lines)
    out.write_text(text + "\n")
    return text


# --- Main ----------------------------------------------------------------------------------


def server_env(db: Database, redis_url: str, sink: MailSink, static_root: Path) -> dict:
    from cryptography.fernet import Fernet

    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SECURE_", "SESSION_", "RATELIMIT_", "EMAIL_",
                               "TWOFACTOR_", "BENCH_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DJANGO_DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        TWOFACTOR_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS=LOOPBACK,
        SITE_URL=f"http://{LOOPBACK}:8000",
        SECURE_SSL_REDIRECT="0",  # plain HTTP on the loopback; HSTS and Secure cookies stay
        DATABASE_URL=db.url,
        REDIS_URL=redis_url,
        STATIC_ROOT=str(static_root),
        EMAIL_HOST=LOOPBACK,
        EMAIL_PORT=str(sink.port),
        EMAIL_USE_TLS="0",
        # The sign-in link goes to the sink from the request, as before the mail queue: the
        # driver reads it at once. (Queued, the request does less: bench/mail.py times that.)
        TWOFACTOR_TASKS_BACKEND="immediate",
        **RAISED_RATES,
    )
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hasher", choices=["fast", "argon2", "both"], default="both")
    parser.add_argument("--workers", default="1,2,3", help="comma-separated worker counts")
    parser.add_argument("--flows", default="bare,totp,link", help="bare, totp, link")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=8.0, help="per flow and worker count")
    parser.add_argument("--max-flows", type=int, default=20_000, help="per row, a bound")
    parser.add_argument("--members", type=int, default=800, help="seeded per flow")
    parser.add_argument("--private-redis", action="store_true",
                        help="a redis-server of the bench's own, so its CPU is the bench's alone")
    parser.add_argument("--readme", action="store_true", help="write the table into README.md")
    parser.add_argument("--json", type=Path, help="write every figure here")
    parser.add_argument("--profile", action="store_true",
                        help="py-spy a worker under load: 1 worker, fast hasher unless --hasher")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    if args.profile:
        args.workers = "1" if args.workers == "1,2,3" else args.workers
        args.hasher = "fast" if args.hasher == "both" else args.hasher
        args.seconds = max(args.seconds, 15.0)
        args.flows = "totp,link" if args.flows == "bare,totp,link" else args.flows
    hashers = ["fast", "argon2"] if args.hasher == "both" else [args.hasher]
    worker_counts = [int(w) for w in args.workers.split(",")]
    flows = [f.strip() for f in args.flows.split(",")]
    if not set(flows) <= {"bare", "totp", "link"} or not all(1 <= w <= 16 for w in worker_counts):
        raise BenchError("--flows takes bare, totp, link; --workers 1 to 16")
    if not 1 <= args.clients <= 64 or not 1 <= args.seconds <= 120:
        raise BenchError("--clients 1 to 64, --seconds 1 to 120")

    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url:
        raise BenchError("set DATABASE_URL (PostgreSQL) and REDIS_URL")
    run_deadline = time.monotonic() + MAX_RUN_SECONDS
    work = Path(tempfile.mkdtemp(prefix="twofactor-bench-load-"))
    args.out.mkdir(parents=True, exist_ok=True)
    db = Database(database_url)
    redis = Redis(os.environ.get("REDIS_URL", ""), private=args.private_redis, workdir=work)
    if not os.environ.get("REDIS_URL") and not args.private_redis:
        raise BenchError("set REDIS_URL, or pass --private-redis")
    sink = MailSink()
    meta = machine()
    meta.update(
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        postgres=db.version(),
        redis=redis.version,
        commit=commit(),
    )
    other = max(0.0, os.getloadavg()[0])
    meta["shared"] = "the machine was otherwise idle"
    print(
        f"bench-load · {meta['date']} · {meta['cpu']} ×{meta['cores']} · load {meta['load']} · "
        f"PostgreSQL {meta['postgres']} · Redis {meta['redis']}"
        f"{' (private)' if args.private_redis else ''} · {args.clients} clients · "
        f"{args.seconds:g} s per row"
    )
    segments: list[Segment] = []
    errors: list[str] = []
    try:
        db.create()
        env = server_env(db, redis.url, sink, work / "static")
        if args.profile:
            env["BENCH_CPU_PROFILE"] = "1"
        manage(env, "manage.py", "migrate", "--noinput")
        manage(env, "manage.py", "collectstatic", "--noinput")
        seed: dict = {}
        driver: Driver | None = None
        for hasher in hashers:
            env["BENCH_HASHER"] = hasher
            seed = json.loads(
                manage(env, "bench/seed.py", "--app-members", str(args.members),
                       "--link-members", str(args.members)).strip().splitlines()[-1]
            )
            for workers in worker_counts:
                if time.monotonic() > run_deadline:
                    raise BenchError(f"the run took longer than {MAX_RUN_SECONDS} s")
                server = Server(env, workers=workers, log=work / "gunicorn.log")
                try:
                    if driver is None:
                        driver = Driver(port=server.port, seed=seed, sink=sink)
                    driver.port = server.port
                    driver.password = seed["password"]
                    driver.app.new_server()
                    driver.link.new_server()
                    # Warm-up, not measured: imports, templates, connections in every worker.
                    for flow in flows:
                        warm = driver.run(flow, clients=args.clients, seconds=1.5,
                                          max_flows=4 * workers + args.clients)
                        errors += warm.errors
                    profilers: list[subprocess.Popen] = []
                    for flow in flows:
                        meter = CPUMeter(gunicorn_pid=server.process.pid, database=db.name,
                                         redis_pid=redis.pid)
                        if args.profile:
                            pid = server.workers()[0]
                            base = args.out / f"profile-{flow}-{hasher}"
                            profilers = [
                                subprocess.Popen(  # noqa: S603
                                    [py_spy(), "record", "--pid", str(pid), "--rate", "250",
                                     "--duration", str(int(args.seconds)), "--nonblocking",
                                     "--format", "flamegraph", "--output", f"{base}-py-spy.svg"],
                                    stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL,
                                )
                            ]
                            time.sleep(0.5)  # attached before the clients start
                            Browser(server.port).request("GET", "/bench/profile/")  # reset
                        meter.start()
                        started = time.monotonic()
                        rec = driver.run(flow, clients=args.clients, seconds=args.seconds,
                                         max_flows=args.max_flows)
                        elapsed = time.monotonic() - started
                        cpu = meter.stop()
                        errors += rec.errors
                        seg = Segment(hasher, workers, flow, rec.flows, elapsed, cpu, rec.steps)
                        segments.append(seg)
                        print_segment(seg)
                        for profiler in profilers:
                            profiler.wait(timeout=args.seconds + 60)
                        if args.profile:
                            samples = Browser(server.port).request("GET", "/bench/profile/").body
                            Path(f"{base}-cpu.txt").write_text(samples)
                            title = f"{flow} flow, {hasher} hasher, worker CPU"
                            Path(f"{base}.svg").write_text(
                                cpuprof.flamegraph_svg(samples, title=title)
                            )
                            # One worker: every flow went through it.
                            print(profile_summary(samples, rec.flows, Path(f"{base}.txt")))
                            print(f"flamegraphs: {base}.svg (CPU time, from inside the worker)"
                                  f", {base}-py-spy.svg (py-spy, wall clock)")
                finally:
                    server.stop()
                    redis.forget(server.prefix)
    finally:
        sink.close()
        try:
            db.drop()
        finally:
            redis.stop()
            shutil.rmtree(work, ignore_errors=True)

    end_load = os.getloadavg()
    meta["load_end"] = f"{end_load[0]:.1f} {end_load[1]:.1f} {end_load[2]:.1f}"
    # The load at the end is mostly the bench's own (it keeps both cores busy): only the load
    # it started under says that other work was running.
    if other > 1.5:
        meta["shared"] = "the machine was busy when it started, which inflates every figure"
    table = markdown(segments, meta, args)
    print("\n" + table)
    if args.json:
        args.json.write_text(json.dumps(
            {"meta": meta, "rows": [
                {"hasher": s.hasher, "workers": s.workers, "flow": s.flow, "flows": s.flows,
                 "seconds": s.seconds, "cpu_s": s.cpu, "cpu_ms_per_flow": s.cpu_ms_per_flow,
                 "steps": {k: {"p50_ms": percentile(v.seconds, 50) * 1000,
                               "p95_ms": percentile(v.seconds, 95) * 1000,
                               "p99_ms": percentile(v.seconds, 99) * 1000,
                               "sql": sql_summary(v.sql)} for k, v in s.steps.items()}}
                for s in segments]}, indent=2))
    if errors:
        print(f"\n{len(errors)} wrong answers (the run fails):")
        for line in errors[:20]:
            print("  " + line)
        return 1
    if any(s.flows == 0 for s in segments):
        print("\na row completed no flow (the run fails)")
        return 1
    if args.readme:
        readme_write(table)
        print("\nREADME.md updated")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"bench-load: {exc}", file=sys.stderr)
        sys.exit(1)
