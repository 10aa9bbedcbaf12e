"""Django's PostgreSQL backend, with a connection health check that costs no round trip.

With ``CONN_HEALTH_CHECKS`` Django asks a reused connection ``SELECT 1`` before its first
query of each request: a round trip, and work for PostgreSQL, on every request, to catch the
rare connection the server has closed since (a restart, ``pg_terminate_backend``, an idle
timeout). A server that closes a connection says so on its socket: it sends its FATAL
message and the end of the stream, so the socket of an idle connection becomes readable.
Here the check first looks at the socket without waiting; nothing there, and the connection
is as the last request left it. Anything there (the close, or a message the server sent
unasked), and Django's own check runs: ``SELECT 1``, and a new connection if that fails.

A connection whose peer vanished without a word (a cut network) shows nothing on its
socket; ``SELECT 1`` would wait on TCP for it as long as the first query does, and the
``connect_timeout`` of the next connection bounds what follows. After a request that hit a
database error, Django's ``close_if_unusable_or_obsolete`` still runs the full check.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and _quiet(self.connection)
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()


def _quiet(connection) -> bool:
    """Nothing has arrived on ``connection``'s socket since it was last used (no close, no
    message), seen without waiting."""
    try:
        poller = select.poll()
        poller.register(connection.fileno(), select.POLLIN)
        return not poller.poll(0)
    except Exception:  # a closed connection (InterfaceError), a bad descriptor: ask the server
        return False
