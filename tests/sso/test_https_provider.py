"""An https issuer, as in production: the provider serves TLS with a certificate of a CA made
here, which the app trusts only when SSL_CERT_FILE (or REQUESTS_CA_BUNDLE) names it."""

from __future__ import annotations

import datetime
import ipaddress
from http import HTTPStatus

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.contrib.auth import SESSION_KEY

from accounts.sso import oidc
from tests.conftest import path_of
from tests.sso.fixtures import connect, start_provider, stop_provider

pytestmark = pytest.mark.django_db


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca_and_leaf(folder):
    """A CA and a certificate for localhost signed by it; returns (ca.pem, cert.pem, key.pem)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("twofactor test CA"))
        .issuer_name(_name("twofactor test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


@pytest.fixture(scope="module")
def https_provider(tmp_path_factory):
    ca, cert, key = make_ca_and_leaf(tmp_path_factory.mktemp("tls"))
    running = start_provider({"TLS_CERT": str(cert), "TLS_KEY": str(key), "HOST_NAME": "localhost"})
    running.ca = ca
    running.verify = str(ca)
    yield running
    stop_provider(running)


def test_https_issuer_needs_no_loopback_exception(https_provider, settings):
    settings.TWOFACTOR_SSO_ALLOW_HTTP_LOOPBACK = False
    assert https_provider.issuer.startswith("https://localhost:")
    assert oidc.issuer_problem(https_provider.issuer) is None


def test_https_provider_untrusted_without_its_ca(https_provider, monkeypatch, settings):
    settings.TWOFACTOR_SSO_ALLOW_HTTP_LOOPBACK = False
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with pytest.raises(oidc.ProviderUnavailable) as refused:
        oidc.connection_test(https_provider.issuer)
    assert "SSLError" in refused.value.detail


def test_https_provider_signs_in_with_its_ca_trusted(
    https_provider, monkeypatch, settings, client, account, sso_member
):
    from tests.sso.test_login_sso import begin

    settings.TWOFACTOR_SSO_ALLOW_HTTP_LOOPBACK = False
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(https_provider.ca))
    assert oidc.connection_test(https_provider.issuer).issuer == https_provider.issuer
    connect(account, https_provider, site_url=settings.SITE_URL)
    back = https_provider.sign_in(begin(client, sso_member.email), sso_member.email)
    response = client.get(path_of(back))
    assert response.status_code == HTTPStatus.FOUND
    assert int(client.session[SESSION_KEY]) == sso_member.pk
