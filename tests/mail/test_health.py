"""GET /healthz: what a load balancer sees, and nothing more."""

from __future__ import annotations

import json
import logging
from http import HTTPStatus

import pytest
from django.db import DatabaseError
from django.test import Client

from tests.hardening.conftest import free_port
from twofactor_site import health
from twofactor_site.mail import email_send_later
from twofactor_site.settings import redis_caches

URL = "/healthz"


def test_healthz_answers_200_with_the_oldest_unsent_email(client, member, mail_queue, clock):
    response = client.get(URL)
    assert response.status_code == HTTPStatus.OK
    assert json.loads(response.content) == {
        "database": "ok",
        "oldest_unsent_email_seconds": None,
        "cache": "ok",
    }
    email_send_later(to=[member.email], name="factor-added", context={"user": member})
    clock.advance(minutes=3)
    assert json.loads(client.get(URL).content)["oldest_unsent_email_seconds"] == 180
    mail_queue.run()
    assert json.loads(client.get(URL).content)["oldest_unsent_email_seconds"] is None


@pytest.fixture
def redis_down(settings):
    shared = settings.CACHES
    settings.CACHES = redis_caches(f"redis://127.0.0.1:{free_port()}/0", key_prefix="x")
    yield
    settings.CACHES = shared  # before the shared fixtures clear "the" cache


def test_healthz_names_the_cache_when_redis_is_down(client, db, redis_down):
    response = client.get(URL)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert json.loads(response.content)["cache"] == "failed"
    assert json.loads(response.content)["database"] == "ok"


def test_healthz_names_the_database_when_it_is_down(client, db, monkeypatch, caplog):
    def down():
        raise DatabaseError("connection refused")

    monkeypatch.setattr(health, "_database", down)
    with caplog.at_level(logging.DEBUG, logger="django"):
        response = client.get(URL)
    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert json.loads(response.content) == {"database": "failed", "cache": "ok"}
    assert "connection refused" not in response.content.decode()
    # A failing probe every few seconds is no reason for a log line each time.
    assert not [r for r in caplog.records if r.name == "django.request"]


def test_healthz_needs_no_session_no_host_and_no_https(db, settings):
    settings.SECURE_SSL_REDIRECT = True
    client = Client(HTTP_HOST="10.0.0.7")  # a balancer asks by the instance's address
    response = client.get(URL)
    assert response.status_code == HTTPStatus.OK
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")
    assert response["Cache-Control"] == "no-store"


def test_healthz_carries_the_headers_of_every_other_answer(db, settings):
    settings.SECURE_SSL_REDIRECT = True  # as in production: a plain-HTTP probe still answered
    response = Client(HTTP_HOST="10.0.0.7").get(URL)
    assert response.status_code == HTTPStatus.OK
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_healthz_is_get_only(client, db):
    assert client.post(URL).status_code != HTTPStatus.OK
