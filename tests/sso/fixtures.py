"""Fixtures of real SSO peers, for every test folder (tests/conftest.py loads this plugin).

The provider is node-oidc-provider (OpenID Certified), configured in tests/sso/provider/ and
run with the machine's Node.js; .ci/run installs its packages (`npm ci`), and so does this
fixture when they are missing. Each test team registers its own client at it (dynamic client
registration), with the redirect URI of the site under test. The DNS server is dnslib's.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from django.utils import timezone

from accounts.sso.models import Connection, Domain
from security.encryption import encrypt
from tests.conftest import processes_stop

PROVIDER_DIR = Path(__file__).resolve().parent / "provider"
START_SECONDS = 30


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str):
    if _in_ci():
        pytest.fail(f"The SSO tests need their provider: {reason}", pytrace=False)
    pytest.skip(reason)


class Provider:
    """The running provider: its issuer, and what the tests may ask of it."""

    def __init__(self, process: subprocess.Popen, issuer: str) -> None:
        self.process, self.issuer = process, issuer
        self.verify: str | bool = True  # the CA file of an https provider, for our own calls

    def register(self, redirect_uri: str) -> tuple[str, str]:
        """A new confidential client (RFC 7591); returns its id and secret."""
        answer = requests.post(
            f"{self.issuer}/reg",
            json={
                "redirect_uris": [redirect_uri],
                "grant_types": ["authorization_code"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "client_secret_basic",
            },
            timeout=10,
            verify=self.verify,
        )
        answer.raise_for_status()
        data = answer.json()
        return data["client_id"], data["client_secret"]

    def set_account(self, login: str, **claims) -> None:
        """What the provider says about ``login`` (sub, email, email_verified, name)."""
        answer = requests.post(
            f"{self.issuer}/__test__/accounts", json={login: claims}, timeout=10, verify=self.verify
        )
        answer.raise_for_status()

    def sign_in(self, authorization_url: str, login: str, *, cancel: bool = False) -> str:
        """Do what a person does at the provider's pages; returns the URL it sends the browser
        back to (our callback with code and state, or an error)."""
        browser = requests.Session()
        url = authorization_url
        for _ in range(10):
            answer = browser.get(url, allow_redirects=False, timeout=10, verify=self.verify)
            if answer.is_redirect:
                url = urljoin(url, answer.headers["Location"])
                if not url.startswith(self.issuer):
                    return url
                continue
            forms = re.findall(r'<form method="post" action="([^"]+)"', answer.text)
            assert forms, answer.text[:500]
            action = forms[1] if cancel else forms[0]
            answer = browser.post(
                urljoin(url, unescape(action)),
                data={"login": login, "password": "any"},
                allow_redirects=False,
                timeout=10,
                verify=self.verify,
            )
            assert answer.is_redirect, answer.text[:500]
            url = urljoin(url, answer.headers["Location"])
            if not url.startswith(self.issuer):
                return url
        raise AssertionError("the provider never sent the browser back")


def _npm_ci() -> None:
    npm = shutil.which("npm")
    if npm is None:
        _unavailable("npm is missing (install Node.js 18+)")
    subprocess.run(  # noqa: S603
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=PROVIDER_DIR,
        check=True,
        timeout=300,
    )


def start_provider(env: dict | None = None) -> Provider:
    node = shutil.which("node")
    if node is None:
        _unavailable("node is missing (install Node.js 18+)")
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").exists():
        _npm_ci()
    process = subprocess.Popen(  # noqa: S603
        [node, "server.mjs"],
        cwd=PROVIDER_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **(env or {})},
    )
    found: list[str] = []

    def read() -> None:
        for line in process.stdout:
            if line.startswith("listening "):
                found.append(line.split()[1])
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(START_SECONDS)
    if not found:
        process.kill()
        raise RuntimeError("the test OpenID provider did not start")
    return Provider(process, found[0])


def stop_provider(provider: Provider) -> None:
    processes_stop([provider.process], timeout=10)


@pytest.fixture(scope="session")
def provider():
    running = start_provider()
    yield running
    stop_provider(running)


@dataclass
class Team:
    account: object
    connection: Connection
    domain: Domain


def connect(account, provider: Provider, *, site_url: str, domain: str = "acme.test", jit=False):
    """Give ``account`` a working connection to ``provider`` and a verified domain."""
    client_id, secret = provider.register(f"{site_url}/login/sso/callback/")
    connection = Connection.objects.create(
        account=account,
        issuer=provider.issuer,
        client_id=client_id,
        client_secret_encrypted=encrypt(secret),
        enabled=True,
        jit_provisioning=jit,
    )
    claim = Domain.objects.create(account=account, domain=domain, verified_at=timezone.now())
    return Team(account=account, connection=connection, domain=claim)


# --- DNS --------------------------------------------------------------------------------------


class Zone:
    """TXT records the loopback DNS server answers with."""

    def __init__(self) -> None:
        self.txt: dict[str, list[str]] = {}

    def resolve(self, request, handler):
        from dnslib import QTYPE, RR, TXT

        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        if request.q.qtype == QTYPE.TXT:
            for value in self.txt.get(name, []):
                reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(value), ttl=60))
        return reply


@pytest.fixture
def dns_zone(settings):
    """A DNS server (dnslib) on a free loopback port; TWOFACTOR_SSO_DNS_RESOLVER points at it."""
    from dnslib.server import DNSLogger, DNSServer

    zone = Zone()
    server = DNSServer(
        zone,
        address="127.0.0.1",
        port=0,
        logger=DNSLogger("-request,-reply,-truncated,-error,-recv,-send,-data"),
    )
    server.start_thread()
    port = server.server.server_address[1]
    settings.TWOFACTOR_SSO_DNS_RESOLVER = f"127.0.0.1:{port}"
    settings.TWOFACTOR_SSO_TIMEOUT_SECONDS = 5
    yield zone
    server.stop()
    server.server.server_close()
