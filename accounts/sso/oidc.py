"""The identity provider's side of OpenID Connect, through authlib (and joserfc, its JOSE
library): discovery, signing keys, the authorization URL, the code exchange and the ID token's
checks. No request object and no ORM here; every outgoing call has a timeout.

What a valid sign-in is (OpenID Connect Core 3.1): the authorization code flow with PKCE S256
(RFC 7636), ``state`` (checked by the caller, see accounts.sso.flow) and ``nonce``; an ID token
signed by a key of the provider's JWKS, whose ``iss`` is the configured issuer, whose ``aud``
holds our client id, unexpired, whose ``nonce`` is the one we sent; an ``email`` the provider
says it verified (``email_verified`` true).
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from django.conf import settings
from django.core.cache import cache
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from twofactor_site.text import has_control_characters, header_safe

SCOPES = "openid email profile"
# Clock difference tolerated between us and the provider when checking exp and iat.
LEEWAY_SECONDS = 60
# What the discovery document must name for the authorization code flow.
REQUIRED_METADATA = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
# Asymmetric signatures only: an HS256 token would be "signed" with our own client secret.
ALLOWED_ALGORITHMS = [
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
]


class ProviderError(Exception):
    """Something about the provider or its answer; ``reason`` is a short code for the security
    log and the page, never a secret."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class ProviderUnavailable(ProviderError):
    """The provider did not answer, answered too slowly, or answered with a server error."""


class ProviderRefused(ProviderError):
    """The provider answered our token request with an OAuth error (a used or expired code)."""


class TokenInvalid(ProviderError):
    """The ID token failed a check: signature, issuer, audience, expiry or nonce."""


# --- Issuers ----------------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def issuer_problem(issuer: str) -> str | None:
    """Why ``issuer`` cannot be used, or None. OpenID Connect issuers are https URLs without
    query or fragment; http only for a loopback host when TWOFACTOR_SSO_ALLOW_HTTP_LOOPBACK."""
    try:
        parts = urlsplit(issuer)
        host = parts.hostname or ""
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
    except ValueError:
        return "The issuer must be a URL such as https://login.example.com."
    if parts.query or parts.fragment or not host or parts.username or parts.password:
        return "The issuer must be a plain https URL, with no query, fragment or password."
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and settings.TWOFACTOR_SSO_ALLOW_HTTP_LOOPBACK and _is_loopback(host):
        return None
    return "The issuer must start with https:// (OpenID Connect requires it)."


def _endpoint_problem(url: object) -> bool:
    return not isinstance(url, str) or issuer_problem(url) is not None


# --- HTTP -------------------------------------------------------------------------------------


def ca_bundle() -> str | bool:
    """Which certificate authorities to trust: REQUESTS_CA_BUNDLE or SSL_CERT_FILE when set,
    else the system's bundle (not requests' own copy of Mozilla's), so an operator or a test
    adds a CA the usual way."""
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        if os.environ.get(name):
            return os.environ[name]
    system = ssl.get_default_verify_paths().cafile
    return system if system and os.path.exists(system) else True


def _session(**kwargs) -> OAuth2Session:
    session = OAuth2Session(default_timeout=settings.TWOFACTOR_SSO_TIMEOUT_SECONDS, **kwargs)
    session.verify = ca_bundle()
    session.trust_env = False  # no proxy or .netrc from the environment for provider calls
    return session


def _get_json(url: str) -> dict:
    try:
        with _session() as session:
            response = session.get(url, withhold_token=True, allow_redirects=False)
    except requests.Timeout:
        raise ProviderUnavailable("timeout", url) from None
    except requests.RequestException as exc:
        raise ProviderUnavailable("unreachable", f"{url} ({type(exc).__name__})") from None
    if response.status_code != 200:
        raise ProviderUnavailable("http-status", f"{url} answered {response.status_code}")
    try:
        data = response.json()
    except ValueError:
        raise ProviderUnavailable("not-json", url) from None
    if not isinstance(data, dict):
        raise ProviderUnavailable("not-json", url)
    return data


def _cache_key(kind: str, url: str) -> str:
    return f"sso:{kind}:{hashlib.sha256(url.encode()).hexdigest()}"


# --- Discovery and keys -----------------------------------------------------------------------


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def discover(issuer: str, *, fresh: bool = False) -> dict:
    """The provider's discovery document, checked (OpenID Connect Discovery 4.3: its issuer is
    exactly ours; its endpoints obey the same https rule). Cached for a few minutes."""
    key = _cache_key("discovery", issuer)
    metadata = None if fresh else cache.get(key)
    if metadata is None:
        metadata = _get_json(discovery_url(issuer))
        missing = [name for name in REQUIRED_METADATA if not metadata.get(name)]
        if missing:
            raise ProviderError("discovery-incomplete", ", ".join(missing))
        if metadata["issuer"] != issuer:
            raise ProviderError("issuer-mismatch", str(metadata["issuer"])[:200])
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if _endpoint_problem(metadata[name]):
                raise ProviderError("endpoint-not-https", name)
        methods = metadata.get("code_challenge_methods_supported")
        if methods is not None and "S256" not in methods:
            raise ProviderError("no-pkce-s256")
        cache.set(key, metadata, settings.TWOFACTOR_SSO_METADATA_CACHE_SECONDS)
    return metadata


def signing_keys(metadata: dict, *, fresh: bool = False) -> KeySet:
    url = metadata["jwks_uri"]
    key = _cache_key("jwks", url)
    data = None if fresh else cache.get(key)
    if data is None:
        data = _get_json(url)
        cache.set(key, data, settings.TWOFACTOR_SSO_METADATA_CACHE_SECONDS)
    try:
        return KeySet.import_key_set(data)
    except (JoseError, ValueError, TypeError, KeyError):
        raise ProviderError("jwks-unreadable") from None


@dataclass(frozen=True)
class ConnectionReport:
    """What "Test connection" found. ``client_accepted``: True when the token endpoint took
    our client ID and secret (it refused only the made-up code we sent), False when it refused
    the client, None when its answer does not tell."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    key_count: int
    algorithms: tuple[str, ...]
    client_accepted: bool | None = None
    client_error: str = ""


# A code no provider issued: the token endpoint checks the client before the code, so its
# error says whether the client ID and secret are right (RFC 6749 5.2).
PROBE_CODE = "twofactor-connection-test"


def _token_request(metadata: dict, *, code: str, code_verifier: str, **client: str) -> dict:
    """The authorization-code grant at the provider's token endpoint (authlib raises what the
    provider answered; requests what the network did). ``client``: client_id, client_secret
    and redirect_uri."""
    with _session(token_endpoint_auth_method=_token_auth_method(metadata), **client) as session:
        return session.fetch_token(
            metadata["token_endpoint"],
            grant_type="authorization_code",
            code=code,
            code_verifier=code_verifier,
            allow_redirects=False,
        )


def _client_probe(
    metadata: dict, *, client_id: str, client_secret: str, redirect_uri: str
) -> tuple[bool | None, str]:
    try:
        _token_request(
            metadata,
            client_id=client_id,
            client_secret=client_secret,
            redirect_uri=redirect_uri,
            code=PROBE_CODE,
            code_verifier=generate_token(64),
        )
    except AuthlibBaseError as exc:
        error = str(exc.error or "")[:64]
        if error in ("invalid_client", "unauthorized_client"):
            return False, error
        if error == "invalid_grant":
            return True, ""
        return None, error
    except (requests.RequestException, ValueError):
        return None, "no-answer"
    return None, "accepted-a-made-up-code"


def connection_test(
    issuer: str, *, client_id: str = "", client_secret: str = "", redirect_uri: str = ""
) -> ConnectionReport:
    """Fetch discovery and the JWKS afresh and say what they hold; with client credentials,
    also whether the token endpoint accepts them (raises ProviderError)."""
    metadata = discover(issuer, fresh=True)
    keys = signing_keys(metadata, fresh=True)
    signing = [k for k in keys.keys if k.get("use", "sig") == "sig"]
    if not signing:
        raise ProviderError("no-signing-keys")
    algorithms = tuple(metadata.get("id_token_signing_alg_values_supported") or ())
    accepted, error = None, ""
    if client_id and client_secret:
        accepted, error = _client_probe(
            metadata, client_id=client_id, client_secret=client_secret, redirect_uri=redirect_uri
        )
    return ConnectionReport(
        issuer=metadata["issuer"],
        authorization_endpoint=metadata["authorization_endpoint"],
        token_endpoint=metadata["token_endpoint"],
        key_count=len(signing),
        algorithms=algorithms,
        client_accepted=accepted,
        client_error=error,
    )


# --- The flow ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Authorization:
    """Where to send the browser, and what to remember in its session to check the answer."""

    url: str
    state: str
    nonce: str
    code_verifier: str


def _token_auth_method(metadata: dict) -> str:
    supported = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    return "client_secret_basic" if "client_secret_basic" in supported else "client_secret_post"


def authorization_begin(
    *, issuer: str, client_id: str, redirect_uri: str, login_hint: str = "", fresh: bool = False
) -> Authorization:
    """The authorization request (code flow, PKCE S256, fresh state and nonce). ``fresh``
    asks the provider to sign the person in again even if it has a session (prompt=login)."""
    metadata = discover(issuer)
    state, nonce = generate_token(43), generate_token(43)
    code_verifier = generate_token(64)  # RFC 7636 4.1: 43 to 128 characters
    extra = {"login_hint": login_hint} if login_hint else {}
    if fresh:
        extra["prompt"] = "login"
    with _session(
        client_id=client_id, scope=SCOPES, redirect_uri=redirect_uri, code_challenge_method="S256"
    ) as session:
        url, _state = session.create_authorization_url(
            metadata["authorization_endpoint"],
            state=state,
            nonce=nonce,
            code_verifier=code_verifier,
            **extra,
        )
    return Authorization(url=url, state=state, nonce=nonce, code_verifier=code_verifier)


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in, from a checked ID token."""

    issuer: str
    subject: str
    email: str
    email_verified: bool
    name: str


def code_exchange(
    *,
    issuer: str,
    client_id: str,
    client_secret: str,
    redirect_uri: str,
    code: str,
    code_verifier: str,
) -> dict:
    """Trade the authorization code for tokens at the token endpoint."""
    metadata = discover(issuer)
    try:
        token = _token_request(
            metadata,
            client_id=client_id,
            client_secret=client_secret,
            redirect_uri=redirect_uri,
            code=code,
            code_verifier=code_verifier,
        )
    except requests.Timeout:
        raise ProviderUnavailable("timeout", "token endpoint") from None
    except requests.RequestException as exc:
        raise ProviderUnavailable("unreachable", f"token endpoint ({type(exc).__name__})") from None
    except AuthlibBaseError as exc:
        raise ProviderRefused("token-refused", str(exc.error or "")[:100]) from None
    except ValueError:  # a body that is not JSON (an HTML error page, a proxy's answer)
        raise ProviderUnavailable("token-not-json") from None
    if not isinstance(token, dict) or not token.get("id_token"):
        raise ProviderRefused("no-id-token")
    return token


def id_token_check(
    *, id_token: str, keys: KeySet, issuer: str, client_id: str, nonce: str, access_token: str = ""
) -> dict:
    """The ID token's claims once joserfc verified its signature against ``keys`` and
    authlib's CodeIDToken its iss, aud, exp, iat, nonce, azp and at_hash. Raises TokenInvalid."""
    try:
        token = jwt.decode(id_token, key=keys, algorithms=ALLOWED_ALGORITHMS)
    except InvalidKeyIdError:
        raise
    except (JoseError, ValueError, TypeError) as exc:
        raise TokenInvalid("signature", type(exc).__name__) from None
    params = {"nonce": nonce, "client_id": client_id}
    if access_token:
        params["access_token"] = access_token
    options = {
        "iss": {"essential": True, "value": issuer},
        "aud": {"essential": True, "value": client_id},
        "exp": {"essential": True},
        "sub": {"essential": True},
        "nonce": {"essential": True},
    }
    claims = CodeIDToken(token.claims, token.header, options, params)
    try:
        claims.validate(leeway=LEEWAY_SECONDS)
    except JoseError as exc:
        claim = getattr(exc, "claim", "") or ""
        raise TokenInvalid(f"claim-{claim}" if claim else "claims", exc.error) from None
    if not nonce:  # never: the flow always sends one; refuse rather than skip the check
        raise TokenInvalid("claim-nonce")
    return dict(claims)


def identity_from_tokens(*, issuer: str, client_id: str, nonce: str, token: dict) -> Identity:
    """Check the ID token in ``token`` (fetching the provider's keys again once if it was
    signed with one we have not seen) and return who signed in."""
    metadata = discover(issuer)
    arguments = {
        "id_token": token["id_token"],
        "issuer": issuer,
        "client_id": client_id,
        "nonce": nonce,
        "access_token": token.get("access_token") or "",
    }
    try:
        claims = id_token_check(keys=signing_keys(metadata), **arguments)
    except InvalidKeyIdError:
        try:
            claims = id_token_check(keys=signing_keys(metadata, fresh=True), **arguments)
        except InvalidKeyIdError:
            raise TokenInvalid("signature", "unknown key") from None
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise TokenInvalid("no-email")
    if len(email.strip()) > EMAIL_MAX or has_control_characters(email):
        # No address of ours is longer, or holds a NUL, a line break or a bidi override.
        raise TokenInvalid("email-unusable")
    subject = str(claims["sub"])
    if not SUBJECT.fullmatch(subject):
        raise TokenInvalid("subject-unusable")
    name = claims.get("name")
    return Identity(
        issuer=issuer,
        subject=subject,
        email=email,
        email_verified=email_is_verified(issuer, claims),
        # A name is shown on pages and in email subjects: on one line, as typed names are.
        name=header_safe(name)[:150] if isinstance(name, str) else "",
    )


EMAIL_MAX = 254  # accounts.User.email's length, as RFC 5321 bounds a path
# OpenID Connect Core 2: "MUST NOT exceed 255 ASCII characters" (accounts.sso.Identity's column).
SUBJECT = re.compile(r"[\x20-\x7e]{1,255}")


# Microsoft Entra ID never sends email_verified for work accounts; its optional claim xms_edov
# ("email domain owner verified") says the tenant owns the address's domain.
ENTRA_HOST = "login.microsoftonline.com"


def email_is_verified(issuer: str, claims: dict) -> bool:
    """Only a JSON true counts: a missing claim or the string "true" does not. For Entra ID
    issuers only, and only when email_verified is absent, xms_edov true stands in for it."""
    if "email_verified" in claims:
        return claims["email_verified"] is True
    return urlsplit(issuer).hostname == ENTRA_HOST and claims.get("xms_edov") is True
