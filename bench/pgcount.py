"""Statements and transactions each gunicorn worker sends to PostgreSQL, counted in the
psycopg2 connection and cursor classes (bench/settings.py installs them), so the health checks
and transactions Django's own query log leaves out are counted too. See bench/server.py."""

from __future__ import annotations

import psycopg2.extensions

COUNTS = {"sql": 0, "hc": 0, "sp": 0, "tx": 0}


class CountingCursor(psycopg2.extensions.cursor):
    def execute(self, query, vars=None):  # noqa: A002 (psycopg2's own name)
        text = query if isinstance(query, str) else str(query)
        if text == "SELECT 1":
            COUNTS["hc"] += 1
        elif text.startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT")):
            COUNTS["sp"] += 1
        else:
            COUNTS["sql"] += 1
        return super().execute(query, vars)

    def executemany(self, query, vars_list):
        COUNTS["sql"] += 1
        return super().executemany(query, vars_list)


class CountingConnection(psycopg2.extensions.connection):
    def commit(self):
        COUNTS["tx"] += 1
        return super().commit()

    def rollback(self):
        COUNTS["tx"] += 1
        return super().rollback()
