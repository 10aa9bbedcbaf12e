"""A software authenticator for the tests: answers the options a page gives with what a
browser would post (``none`` attestation, ES256), for any challenge, origin and counter. The
recorded vectors (vectors.json) prove our checks against a real authenticator's bytes; this
one lets the page tests run the whole flow without a browser. ``chromium_authenticator`` gives
a Playwright page Chromium's own virtual one, for the browser tests and the recording."""

from __future__ import annotations

import hashlib
import json
import secrets
import struct

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from security.passkeys.ceremony import b64url_decode, b64url_encode

UP, UV, AT = 0x01, 0x04, 0x40


class SoftKey:
    def __init__(self, *, origin: str = "http://localhost:8000", counter: int = 0) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = secrets.token_bytes(32)
        self.origin = origin
        self.counter = counter  # 0: a key that keeps no counter, unless moved with ``count``
        self.counts = counter > 0

    @property
    def id(self) -> str:
        return b64url_encode(self.credential_id)

    def _cose(self) -> bytes:
        numbers = self.private.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        data = {"type": kind, "challenge": challenge, "origin": origin or self.origin}
        return json.dumps(data, separators=(",", ":")).encode()

    def _next_count(self) -> int:
        if self.counts:
            self.counter += 1
        return self.counter

    def register(
        self, options: dict, *, origin: str | None = None, rp_id: str | None = None
    ) -> str:
        """The answer to navigator.credentials.create(options), as passkeys.js posts it."""
        rp_hash = hashlib.sha256((rp_id or options["rp"]["id"]).encode()).digest()
        auth_data = (
            rp_hash
            + bytes([UP | UV | AT])
            + struct.pack(">I", self._next_count())
            + bytes(16)
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + self._cose()
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return self._answer(
            clientDataJSON=b64url_encode(client_data),
            attestationObject=b64url_encode(attestation),
            transports=["usb"],
        )

    def assert_(
        self,
        options: dict,
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        count: int | None = None,
    ) -> str:
        """The answer to navigator.credentials.get(options). ``count`` forces the counter
        (a clone's, behind the real key's)."""
        rp_hash = hashlib.sha256((rp_id or options["rpId"]).encode()).digest()
        counter = self._next_count() if count is None else count
        auth_data = rp_hash + bytes([UP | UV]) + struct.pack(">I", counter)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signed = auth_data + hashlib.sha256(client_data).digest()
        signature = self.private.sign(signed, ec.ECDSA(hashes.SHA256()))
        return self._answer(
            clientDataJSON=b64url_encode(client_data),
            authenticatorData=b64url_encode(auth_data),
            signature=b64url_encode(signature),
        )

    def _answer(self, **response) -> str:
        """A PublicKeyCredential as passkeys.js serialises it."""
        credential = {"id": self.id, "rawId": self.id, "type": "public-key"}
        return json.dumps({**credential, "clientExtensionResults": {}, "response": response})


def options_in(response) -> dict:
    """The options a passkey page gave the browser (its #passkey-options data block)."""
    html = response.content.decode()
    start = html.index('<script id="passkey-options" type="application/json">')
    start = html.index(">", start) + 1
    return json.loads(html[start : html.index("</script>", start)])


__all__ = ["SoftKey", "options_in", "b64url_decode"]


def chromium_authenticator(page) -> tuple:
    """Chromium's virtual authenticator for ``page`` (CDP WebAuthn: ctap2, internal transport,
    a platform passkey that verifies its user): its CDP session and authenticator id."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return cdp, added["authenticatorId"]
