"""Settings from the environment: safe defaults, and a bad value is refused by name."""

import os
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import pytest
from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore
from django.core.exceptions import ImproperlyConfigured

from twofactor_site.settings import database_from_url, env_bool, env_int, env_list


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("1", True),
        (" TRUE ", True),
        ("yes", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("No", False),
        ("off", False),
    ],
)
def test_env_bool_reads_values(monkeypatch, raw, expected):
    monkeypatch.setenv("TF_FLAG", raw)
    assert env_bool("TF_FLAG", not expected) is expected


def test_env_bool_default_when_unset_or_empty(monkeypatch):
    monkeypatch.delenv("TF_FLAG", raising=False)
    assert env_bool("TF_FLAG", True) is True
    monkeypatch.setenv("TF_FLAG", "  ")
    assert env_bool("TF_FLAG", False) is False


@pytest.mark.parametrize("raw", ["maybe", "2", "tru", "y e s"])
def test_env_bool_refuses_bad_value_naming_variable(monkeypatch, raw):
    monkeypatch.setenv("TF_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match="TF_FLAG"):
        env_bool("TF_FLAG")


def test_env_int_reads_value_and_default(monkeypatch):
    monkeypatch.setenv("TF_NUMBER", " 42 ")
    assert env_int("TF_NUMBER", 7) == 42
    monkeypatch.delenv("TF_NUMBER")
    assert env_int("TF_NUMBER", 7) == 7


@pytest.mark.parametrize("raw", ["ten", "1.5", "0x10", "1e3"])
def test_env_int_refuses_non_number_naming_variable(monkeypatch, raw):
    monkeypatch.setenv("TF_NUMBER", raw)
    with pytest.raises(ImproperlyConfigured, match="TF_NUMBER must be a whole number"):
        env_int("TF_NUMBER", 7)


def test_env_int_refuses_below_minimum_naming_variable(monkeypatch):
    monkeypatch.setenv("ARGON2_MEMORY_COST_KIB", "1024")
    with pytest.raises(ImproperlyConfigured, match="ARGON2_MEMORY_COST_KIB must be at least 19456"):
        env_int("ARGON2_MEMORY_COST_KIB", 19456, minimum=19456)


def test_env_list_splits_and_trims(monkeypatch):
    monkeypatch.setenv("TF_HOSTS", " a.example , b.example,, ")
    assert env_list("TF_HOSTS", ["x"]) == ["a.example", "b.example"]
    monkeypatch.setenv("TF_HOSTS", "")
    assert env_list("TF_HOSTS", ["x"]) == ["x"]


def test_database_from_url_postgres():
    db = database_from_url("postgres://app:p%40ss@db.internal:6543/twofactor?sslmode=require")
    assert db["ENGINE"] == "twofactor_site.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"]) == ("twofactor", "app", "p@ss")
    assert (db["HOST"], db["PORT"]) == ("db.internal", "6543")
    # A database host that does not answer fails within seconds, not TCP's own timeout.
    assert db["OPTIONS"] == {"sslmode": "require", "connect_timeout": "3"}


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "pgsql"])
def test_database_from_url_postgres_schemes_without_port_or_password(scheme):
    db = database_from_url(f"{scheme}://postgres@127.0.0.1/twofactor")
    assert db["ENGINE"] == "twofactor_site.postgresql"
    assert (db["NAME"], db["USER"], db["PASSWORD"], db["PORT"]) == ("twofactor", "postgres", "", "")


def test_database_from_url_sqlite_relative_and_absolute():
    assert database_from_url("sqlite:///db.sqlite3") == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": "db.sqlite3",
    }
    assert (
        database_from_url("sqlite:////var/lib/app/db.sqlite3")["NAME"] == "/var/lib/app/db.sqlite3"
    )


@pytest.mark.parametrize(
    "url, message",
    [
        ("mysql://u@h/db", "DATABASE_URL must start with postgres:// or sqlite:///"),
        ("db.sqlite3", "DATABASE_URL must start with"),
        ("postgres://u@h/", "DATABASE_URL must name a database"),
        ("postgres://u@h:port/db", "DATABASE_URL has a port that is not a number"),
        ("sqlite:///", "DATABASE_URL for SQLite must name a file"),
    ],
)
def test_database_from_url_refuses_bad_url_naming_variable(url, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        database_from_url(url)


def test_settings_security_knobs_have_safe_values(settings):
    assert settings.TWOFACTOR_EMAIL_LINK_MINUTES <= 10
    assert settings.TWOFACTOR_PENDING_LOGIN_MINUTES >= 1
    # Sessions in the shared cache (twofactor_site.sessions only refuses to read an outage
    # as an empty session).
    assert issubclass(import_module(settings.SESSION_ENGINE).SessionStore, CacheSessionStore)
    assert settings.SESSION_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_SAMESITE == "Lax"


@pytest.mark.parametrize(
    "environment, variable",
    [
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG"),
        (
            {"DJANGO_DEBUG": "1", "TWOFACTOR_PENDING_LOGIN_MINUTES": "0"},
            "TWOFACTOR_PENDING_LOGIN_MINUTES",
        ),
        (
            {"DJANGO_DEBUG": "1", "TWOFACTOR_EMAIL_LINK_MINUTES": "ten"},
            "TWOFACTOR_EMAIL_LINK_MINUTES",
        ),
        ({"DJANGO_DEBUG": "1", "ARGON2_TIME_COST": "1"}, "ARGON2_TIME_COST"),
        ({"DJANGO_DEBUG": "1", "SITE_URL": "twofactor.example"}, "SITE_URL"),
        ({"DJANGO_DEBUG": "1", "DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL"),
        ({"DJANGO_DEBUG": "0"}, "SECRET_KEY"),
        ({"DJANGO_DEBUG": "1", "TRUSTED_PROXIES": "10.0.0.1, proxy.internal"}, "TRUSTED_PROXIES"),
    ],
)
def test_settings_module_refuses_bad_environment(environment, variable):
    """Loading the settings as a server would (outside pytest) stops with the variable's name."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "SITE_URL"}
    }
    env.update(environment)
    result = subprocess.run(
        [sys.executable, "-c", "import twofactor_site.settings"],
        cwd=settings_dir(),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr.strip().splitlines()[-1]


def settings_dir() -> str:
    return str(Path(__file__).resolve().parents[2])
