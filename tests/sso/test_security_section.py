"""The Security page's single sign-on section: connection, Test connection, domains and DNS."""

from __future__ import annotations

from html import unescape
from http import HTTPStatus

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.sso.models import Connection, Domain
from accounts.sso.services import client_secret
from security.events import NO_AUDIT
from security.models import SecurityEvent
from tests.conftest import sign_in_with_link

pytestmark = pytest.mark.django_db

SECURITY = reverse("security:security")


def save(client, **fields):
    data = {
        "issuer": "https://acme.okta.com",
        "client_id": "0oa-acme",
        "client_secret": "s3cret-value",
    }
    data.update(fields)
    data = {key: value for key, value in data.items() if value is not None}
    return client.post(reverse("sso:connection"), data)


def said(response_or_client) -> list[str]:
    request = getattr(response_or_client, "wsgi_request", None)
    return [str(m) for m in get_messages(request)] if request else []


def test_section_shows_redirect_uri_and_scopes(admin_client):
    page = unescape(admin_client.get(SECURITY).content.decode())
    assert "https://twofactor.example/login/sso/callback/" in page
    assert "openid email profile" in page
    assert "Single sign-on (OpenID Connect)" in page


def test_section_is_for_account_admins_only(client, member):
    sign_in_with_link(client, member.email)
    assert save(client).status_code == HTTPStatus.FORBIDDEN
    assert not Connection.objects.exists()


def test_save_stores_the_secret_encrypted_and_never_shows_it(admin_client, account):
    response = save(admin_client, enabled="on")
    assert response.status_code == HTTPStatus.FOUND
    connection = Connection.objects.get(account=account)
    assert connection.enabled and not connection.jit_provisioning
    assert "s3cret-value" not in connection.client_secret_encrypted
    assert client_secret(connection) == "s3cret-value"
    page = admin_client.get(SECURITY).content.decode()
    assert "s3cret-value" not in page
    assert "never shown again" in page
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.SSO_SETTINGS_CHANGED)
    assert event.detail["issuer"] == "https://acme.okta.com" and "s3cret" not in str(event.detail)


def test_save_without_secret_keeps_the_stored_one(admin_client, account):
    save(admin_client)
    save(admin_client, client_secret="", client_id="0oa-new", jit_provisioning="on")
    connection = Connection.objects.get(account=account)
    assert client_secret(connection) == "s3cret-value"
    assert connection.client_id == "0oa-new" and connection.jit_provisioning


def test_save_refuses_http_issuer(admin_client, settings):
    settings.TWOFACTOR_SSO_ALLOW_HTTP_LOOPBACK = False
    response = save(admin_client, issuer="http://acme.okta.com")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert b"https://" in response.content
    assert not Connection.objects.exists()


def test_save_refuses_http_elsewhere_than_loopback_even_when_allowed(admin_client, settings):
    settings.TWOFACTOR_SSO_ALLOW_HTTP_LOOPBACK = True
    assert save(admin_client, issuer="http://idp.example").status_code == HTTPStatus.BAD_REQUEST
    assert save(admin_client, issuer="http://127.0.0.1:9000").status_code == HTTPStatus.FOUND


def test_save_on_needs_a_secret(admin_client):
    response = save(admin_client, client_secret="", enabled="on")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not Connection.objects.exists()


def test_new_issuer_unlinks_members(admin_client, account, sso_member):
    from accounts.sso.models import Identity

    save(admin_client)
    Identity.objects.create(user=sso_member, issuer="https://acme.okta.com", subject="s1")
    save(admin_client, issuer="https://acme.okta.com")
    assert Identity.objects.filter(user=sso_member).exists()
    save(admin_client, issuer="https://login.acme.test")
    assert not Identity.objects.filter(user=sso_member).exists()


def test_test_connection_says_what_it_found(admin_client, account, provider):
    save(admin_client, issuer=provider.issuer)
    response = admin_client.post(reverse("sso:test"), follow=True)
    text = " ".join(str(m) for m in response.context["messages"])
    assert f"Connected to {provider.issuer}" in text
    assert f"tokens at {provider.issuer}/token" in text
    assert "1 signing key(s) (RS256" in text


def test_test_connection_checks_the_client_credentials(admin_client, account, provider):
    client_id, secret = provider.register("https://twofactor.example/login/sso/callback/")
    save(admin_client, issuer=provider.issuer, client_id=client_id, client_secret=secret)
    response = admin_client.post(reverse("sso:test"), follow=True)
    text = " ".join(str(m) for m in response.context["messages"])
    assert "The provider accepted the client ID and secret." in text
    save(admin_client, issuer=provider.issuer, client_id=client_id, client_secret="wrong")
    response = admin_client.post(reverse("sso:test"), follow=True)
    text = " ".join(str(m) for m in response.context["messages"])
    assert "The provider refused the client ID or secret (invalid_client)" in text


def test_test_connection_says_what_failed(admin_client, account, settings):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    save(admin_client, issuer=f"http://127.0.0.1:{port}")
    response = admin_client.post(reverse("sso:test"), follow=True)
    text = " ".join(str(m) for m in response.context["messages"])
    assert "The connection test failed (unreachable" in text


# --- Domains --------------------------------------------------------------------------------------


def add(client, domain: str):
    return client.post(reverse("sso:domain-add"), {"domain": domain})


def test_domain_add_shows_its_txt_record(admin_client, account):
    assert add(admin_client, "Acme.TEST").status_code == HTTPStatus.FOUND
    claim = Domain.objects.get(account=account)
    assert claim.domain == "acme.test" and not claim.is_verified
    page = admin_client.get(SECURITY).content.decode()
    assert f"twofactor-verification={claim.token}" in page
    assert ">Verify" in page


@pytest.mark.parametrize("bad", ["not a domain", "com", "-acme.test", "acme..test", "a" * 300])
def test_domain_add_refuses_a_bad_domain(admin_client, bad):
    assert add(admin_client, bad).status_code == HTTPStatus.BAD_REQUEST
    assert not Domain.objects.exists()


def test_domain_verify_finds_the_txt_record(admin_client, account, dns_zone):
    add(admin_client, "acme.test")
    claim = Domain.objects.get(account=account)
    dns_zone.txt["acme.test"] = ["v=spf1 -all", claim.txt_value]
    response = admin_client.post(reverse("sso:domain-verify", args=[claim.pk]), follow=True)
    claim.refresh_from_db()
    assert claim.is_verified
    assert "acme.test is verified." in [str(m) for m in response.context["messages"]]
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SSO_DOMAIN_VERIFIED).exists()


def test_domain_verify_without_the_record_says_so(admin_client, account, dns_zone):
    add(admin_client, "acme.test")
    claim = Domain.objects.get(account=account)
    dns_zone.txt["acme.test"] = ["twofactor-verification=someone-elses-token"]
    response = admin_client.post(reverse("sso:domain-verify", args=[claim.pk]), follow=True)
    claim.refresh_from_db()
    assert not claim.is_verified
    assert "We didn't find the TXT record" in unescape(
        " ".join(str(m) for m in response.context["messages"])
    )


def test_domain_verify_when_dns_cannot_be_asked_says_so(admin_client, account, settings):
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # bound, never answers
        settings.TWOFACTOR_SSO_DNS_RESOLVER = f"127.0.0.1:{silent.getsockname()[1]}"
        settings.TWOFACTOR_SSO_TIMEOUT_SECONDS = 0.5
        add(admin_client, "acme.test")
        claim = Domain.objects.get(account=account)
        response = admin_client.post(reverse("sso:domain-verify", args=[claim.pk]), follow=True)
    assert response.status_code == HTTPStatus.OK
    assert "couldn't ask DNS" in unescape(" ".join(str(m) for m in response.context["messages"]))


def test_domain_verified_by_another_team_cannot_be_claimed(
    admin_client, account, other_admin, dns_zone
):
    from django.utils import timezone

    Domain.objects.create(
        account=other_admin.account, domain="acme.test", verified_at=timezone.now()
    )
    response = add(admin_client, "acme.test")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert b"verified by another team" in response.content


def test_domain_two_pending_claims_only_one_verifies(admin_client, account, other_admin, dns_zone):
    from accounts.sso import services

    mine = services.domain_add(audit=NO_AUDIT, account=account, by=None, domain="acme.test")
    theirs = services.domain_add(
        audit=NO_AUDIT, account=other_admin.account, by=None, domain="acme.test"
    )
    dns_zone.txt["acme.test"] = [theirs.txt_value, mine.txt_value]
    assert services.domain_verify(audit=NO_AUDIT, claim=theirs, by=None)
    with pytest.raises(services.SSOError):
        services.domain_verify(audit=NO_AUDIT, claim=mine, by=None)
    assert Domain.objects.filter(domain="acme.test", verified_at__isnull=False).get() == theirs


def test_domain_of_another_team_cannot_be_verified_or_removed_here(admin_client, other_admin):
    from accounts.sso import services

    theirs = services.domain_add(
        audit=NO_AUDIT, account=other_admin.account, by=None, domain="globex.test"
    )
    assert (
        admin_client.post(reverse("sso:domain-verify", args=[theirs.pk])).status_code
        == HTTPStatus.NOT_FOUND
    )
    assert (
        admin_client.post(reverse("sso:domain-remove", args=[theirs.pk])).status_code
        == HTTPStatus.NOT_FOUND
    )


def test_domain_remove(admin_client, account):
    add(admin_client, "acme.test")
    claim = Domain.objects.get(account=account)
    assert (
        admin_client.post(reverse("sso:domain-remove", args=[claim.pk])).status_code
        == HTTPStatus.FOUND
    )
    assert not Domain.objects.exists()
    assert SecurityEvent.objects.filter(kind=SecurityEvent.Kind.SSO_DOMAIN_REMOVED).exists()


def test_section_views_refuse_get(admin_client):
    for name in ("sso:connection", "sso:test", "sso:domain-add"):
        assert admin_client.get(reverse(name)).status_code == HTTPStatus.METHOD_NOT_ALLOWED
