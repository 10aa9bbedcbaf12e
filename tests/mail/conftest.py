"""A real SMTP server (aiosmtpd) on a free port, whose answers a test scripts."""

from __future__ import annotations

import asyncio
import email
import threading
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from tests.hardening.conftest import free_port, use_smtp


class ScriptedHandler:
    """Accepts every message, unless told otherwise: ``replies`` are the answers to the next
    DATA commands ("451 ..." or "550 ..."), in order; ``hold`` keeps the next RCPT waiting
    until ``release`` is set (a worker killed mid-send)."""

    def __init__(self) -> None:
        self.replies: list[str] = []
        self.messages: list[email.message.Message] = []
        self.hold = False
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.hold:
            self.hold = False
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.replies:
            return self.replies.pop(0)
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def received(self) -> list[tuple[str, str]]:
        """(recipient, subject) of each message taken, in order."""
        return [(m["To"], m["Subject"]) for m in self.messages]


class SMTPServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.handler = ScriptedHandler()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.handler.release.set()
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server(settings) -> Iterator[SMTPServer]:
    """Not started yet (a mail server that is down): ``smtp_server.start()``."""
    server = SMTPServer()
    use_smtp(settings, server.port)
    yield server
    server.stop()
