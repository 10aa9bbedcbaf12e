"""python manage.py sso_configure: an operator's way to set a team's SSO."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.sso.models import Connection, Domain
from accounts.sso.services import client_secret

pytestmark = pytest.mark.django_db


# The team, issuer and client id most calls configure.
ACME_OKTA = ("Acme", "--issuer", "https://acme.okta.com", "--client-id", "0oa")


def run(*args, **env) -> str:
    out = StringIO()
    call_command("sso_configure", *args, "--noinput", stdout=out)
    return out.getvalue()


def test_configure_sets_connection_and_prints_redirect_uri(account, monkeypatch):
    monkeypatch.setenv("TWOFACTOR_SSO_CLIENT_SECRET", "from-the-environment")
    out = run(*ACME_OKTA, "--domain", "acme.test")
    connection = Connection.objects.get(account=account)
    assert connection.enabled and not connection.jit_provisioning
    assert client_secret(connection) == "from-the-environment"
    assert (
        "Redirect URI to register at the provider: https://twofactor.example/login/sso/callback/"
        in out
    )
    claim = Domain.objects.get(account=account)
    assert not claim.is_verified
    assert f'"twofactor-verification={claim.token}"' in out


def test_configure_verified_and_off(account, monkeypatch):
    monkeypatch.setenv("TWOFACTOR_SSO_CLIENT_SECRET", "s")
    out = run(
        *ACME_OKTA,
        "--domain",
        "acme.test",
        "--domain",
        "acme.example",
        "--verified",
        "--off",
    )
    assert not Connection.objects.get(account=account).enabled
    assert Domain.objects.filter(account=account, verified_at__isnull=False).count() == 2
    assert "acme.test: verified" in out and "is off" in out


def test_configure_again_keeps_the_secret(account, monkeypatch):
    monkeypatch.setenv("TWOFACTOR_SSO_CLIENT_SECRET", "first")
    run(*ACME_OKTA)
    monkeypatch.delenv("TWOFACTOR_SSO_CLIENT_SECRET")
    run("Acme", "--issuer", "https://acme.okta.com", "--client-id", "0ob", "--jit")
    connection = Connection.objects.get(account=account)
    assert client_secret(connection) == "first" and connection.client_id == "0ob"
    assert connection.jit_provisioning


def test_configure_needs_a_secret(account, monkeypatch):
    monkeypatch.delenv("TWOFACTOR_SSO_CLIENT_SECRET", raising=False)
    with pytest.raises(CommandError, match="TWOFACTOR_SSO_CLIENT_SECRET"):
        run(*ACME_OKTA)


def test_configure_refuses_http_issuer(account, monkeypatch):
    monkeypatch.setenv("TWOFACTOR_SSO_CLIENT_SECRET", "s")
    with pytest.raises(CommandError, match="https"):
        run("Acme", "--issuer", "http://acme.okta.com", "--client-id", "0oa")


def test_configure_unknown_team(db, monkeypatch):
    monkeypatch.setenv("TWOFACTOR_SSO_CLIENT_SECRET", "s")
    with pytest.raises(CommandError, match="No team"):
        run("Nope", "--issuer", "https://acme.okta.com", "--client-id", "0oa")


def test_configure_domain_of_another_team(account, other_admin, monkeypatch):
    from django.utils import timezone

    Domain.objects.create(
        account=other_admin.account, domain="acme.test", verified_at=timezone.now()
    )
    monkeypatch.setenv("TWOFACTOR_SSO_CLIENT_SECRET", "s")
    with pytest.raises(CommandError, match="another team"):
        run(
            *ACME_OKTA,
            "--domain",
            "acme.test",
        )
