"""What makes a passkey's answer valid: the two WebAuthn ceremonies through py_webauthn.
Pure functions; no request, no ORM.

The relying party is this site: its id is SITE_URL's host name (WebAuthn refuses an IP
address) and its one origin is SITE_URL's scheme, host and port. Every check of an answer
(the challenge, the origin, the RP id hash, user presence, the signature, the attestation's
shape) is py_webauthn's; this module only adds the signature counter rule, after the
signature has been verified, so only a real key's answer can report a cloned key.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import options_to_json_dict
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

# 32 random bytes: WebAuthn asks for at least 16; 256 bits like our other tokens.
CHALLENGE_BYTES = 32
# How long the browser may wait for the person to touch their key. The challenge itself lives
# a little longer (services.CHALLENGE_SECONDS), so a slow but valid answer is still checked.
TIMEOUT_MS = 120_000
# A browser's answer is a few hundred bytes to a few KB (a security key's attestation
# certificate included); anything much larger is not an answer.
ANSWER_MAX_CHARS = 16_000
TRANSPORTS = frozenset(t.value for t in AuthenticatorTransport)


class Refused(Exception):
    """The answer does not prove what it claims. ``reason`` is for the security log only."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CounterWentBack(Refused):
    """A valid signature whose counter is not above the last one: a second copy of the key
    (a clone) may exist, or this answer was recorded and replayed."""

    def __init__(self, *, stored: int, received: int) -> None:
        super().__init__("counter_went_back")
        self.stored, self.received = stored, received


@dataclass(frozen=True)
class RelyingParty:
    id: str  # SITE_URL's host name
    origin: str  # SITE_URL's scheme://host[:port]
    name: str  # SITE_NAME, shown by some browsers


@dataclass(frozen=True)
class NewCredential:
    credential_id: str  # base64url, as browsers and py_webauthn spell it
    public_key: bytes  # COSE
    sign_count: int
    transports: list[str]


@dataclass(frozen=True)
class KnownCredential:
    credential_id: str
    transports: list[str]


def relying_party(site_url: str, site_name: str) -> RelyingParty:
    parts = urlsplit(site_url)
    return RelyingParty(
        id=parts.hostname or "", origin=f"{parts.scheme}://{parts.netloc}", name=site_name
    )


def challenge_new() -> bytes:
    return secrets.token_bytes(CHALLENGE_BYTES)


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _descriptors(known: list[KnownCredential]) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(
            id=b64url_decode(c.credential_id),
            transports=[AuthenticatorTransport(t) for t in c.transports if t in TRANSPORTS],
        )
        for c in known
    ]


def registration_options(
    *,
    rp: RelyingParty,
    challenge: bytes,
    user_handle: bytes,
    user_name: str,
    display_name: str,
    exclude: list[KnownCredential],
) -> dict:
    """The JSON for navigator.credentials.create(). No attestation is asked (we trust no
    vendor list; a key proves possession by its signatures). A discoverable credential is
    preferred (a passkey), a plain security key is fine; user verification is preferred, not
    required: this is the second step, after the password."""
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        user_id=user_handle,
        user_name=user_name,
        user_display_name=display_name or user_name,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(exclude),
    )
    return options_to_json_dict(options)


def authentication_options(
    *, rp: RelyingParty, challenge: bytes, allow: list[KnownCredential]
) -> dict:
    """The JSON for navigator.credentials.get(), allowing only the member's own keys."""
    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        allow_credentials=_descriptors(allow),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return options_to_json_dict(options)


def answer_parse(answer: str) -> dict:
    """The browser's answer as a dict, or Refused when it is not one (too long, not JSON)."""
    if not answer or len(answer) > ANSWER_MAX_CHARS:
        raise Refused("malformed")
    try:
        data = json.loads(answer)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than json can read
        raise Refused("malformed") from None
    if not isinstance(data, dict) or not isinstance(data.get("response"), dict):
        raise Refused("malformed")
    return data


def answer_challenge(data: dict) -> bytes:
    """The challenge the browser signed (from clientDataJSON): which of ours it answers.
    Only a lookup key: py_webauthn checks it again against the one we stored."""
    try:
        client_data = json.loads(b64url_decode(data["response"]["clientDataJSON"]))
        return b64url_decode(client_data["challenge"])
    except (KeyError, TypeError, ValueError, RecursionError, binascii.Error):
        raise Refused("malformed") from None


def answer_credential_id(data: dict) -> str:
    credential_id = data.get("rawId") or data.get("id")
    if not isinstance(credential_id, str) or not credential_id:
        raise Refused("malformed")
    return credential_id


def _verified(verify, what: str, *, rp: RelyingParty, challenge: bytes, data: dict, **more):
    """The library's check of an answer against this site's id and origin and the challenge;
    its complaint, or an answer too malformed to check, is Refused (named by ``what``)."""
    try:
        return verify(
            credential=data,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            **more,
        )
    except (WebAuthnException, KeyError, TypeError, ValueError) as error:
        raise Refused(f"{what}: {str(error)[:200]}") from None


def registration_verify(*, rp: RelyingParty, challenge: bytes, data: dict) -> NewCredential:
    verified = _verified(
        verify_registration_response, "registration", rp=rp, challenge=challenge, data=data
    )
    transports = data["response"].get("transports")
    transports = transports if isinstance(transports, list) else []
    return NewCredential(
        credential_id=b64url_encode(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=[t for t in transports if isinstance(t, str) and t in TRANSPORTS],
    )


def assertion_verify(
    *, rp: RelyingParty, challenge: bytes, data: dict, public_key: bytes, sign_count: int
) -> int:
    """Verify an answer to navigator.credentials.get() for a known key; its new counter.
    Authenticators that keep no counter always say 0: then there is nothing to compare
    (WebAuthn 7.2 step 21). Otherwise the counter must go up."""
    # The counter is compared below, once the signature is known to be the key's own.
    verified = _verified(
        verify_authentication_response,
        "assertion",
        rp=rp,
        challenge=challenge,
        data=data,
        credential_public_key=public_key,
        credential_current_sign_count=0,
    )
    received = verified.new_sign_count
    if (received or sign_count) and received <= sign_count:
        raise CounterWentBack(stored=sign_count, received=received)
    return received
