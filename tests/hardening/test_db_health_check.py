"""The PostgreSQL health check (twofactor_site/postgresql/base.py): a reused connection is
asked nothing when its socket is quiet, replaced when the server closed it, and asked
``SELECT 1`` (then kept) when the server sent something that is not a close."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from tests.conftest import postgres_backend_end, postgres_connect

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _server_asked(monkeypatch) -> list[bool]:
    """Run the next request's health check on this connection; the answers of each time it
    asked the server (Django's ``is_usable``: ``SELECT 1``)."""
    answers: list[bool] = []
    ask = connection.is_usable

    def spy() -> bool:
        answers.append(ask())
        return answers[-1]

    monkeypatch.setattr(connection, "is_usable", spy)
    connection.health_check_done = False
    connection.close_if_health_check_failed()
    return answers


def _wait_readable() -> None:
    import select

    poller = select.poll()
    poller.register(connection.connection.fileno(), select.POLLIN)
    deadline = time.monotonic() + 5
    while not poller.poll(50) and time.monotonic() < deadline:
        pass


def test_a_quiet_connection_is_kept_without_asking_the_server(monkeypatch):
    connection.ensure_connection()
    raw = connection.connection
    assert _server_asked(monkeypatch) == []
    assert connection.connection is raw


def test_a_connection_the_server_closed_is_replaced_before_use():
    pid = postgres_backend_end()
    _wait_readable()
    connection.health_check_done = False
    connection.close_if_health_check_failed()
    assert connection.connection is None  # closed: the next query opens a new one
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid


def test_a_connection_the_server_spoke_on_is_asked_and_kept(monkeypatch):
    with connection.cursor() as cursor:
        cursor.execute("LISTEN twofactor_health_check")
    raw = connection.connection
    other = postgres_connect()
    try:
        with other.cursor() as cursor:
            cursor.execute("NOTIFY twofactor_health_check")
    finally:
        other.close()
    _wait_readable()
    assert _server_asked(monkeypatch) == [True]
    assert connection.connection is raw
    with connection.cursor() as cursor:
        cursor.execute("UNLISTEN *")
