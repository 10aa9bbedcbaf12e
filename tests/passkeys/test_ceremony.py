"""The ceremonies against a real authenticator's bytes: a registration and an assertion that
Chromium's virtual authenticator (ctap2, internal, resident key, user verified) made once at
http://localhost:8000 with fixed challenges (record_vectors.py), in the manner of
py_webauthn's own test vectors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from security.passkeys import ceremony

VECTORS = json.loads((Path(__file__).parent / "vectors.json").read_text())
RP = ceremony.RelyingParty(id=VECTORS["rp_id"], origin=VECTORS["origin"], name="Twofactor")
REGISTRATION_CHALLENGE = ceremony.b64url_decode(VECTORS["registration_challenge"])
ASSERTION_CHALLENGE = ceremony.b64url_decode(VECTORS["assertion_challenge"])


def registered() -> ceremony.NewCredential:
    return ceremony.registration_verify(
        rp=RP, challenge=REGISTRATION_CHALLENGE, data=VECTORS["registration"]
    )


def assertion(*, rp=RP, challenge=ASSERTION_CHALLENGE, sign_count=None, data=None) -> int:
    key = registered()
    return ceremony.assertion_verify(
        rp=rp,
        challenge=challenge,
        data=data or VECTORS["assertion"],
        public_key=key.public_key,
        sign_count=key.sign_count if sign_count is None else sign_count,
    )


def test_relying_party_is_site_url_host_and_origin():
    rp = ceremony.relying_party("https://team.example.com", "Team")
    assert (rp.id, rp.origin) == ("team.example.com", "https://team.example.com")
    rp = ceremony.relying_party("http://localhost:8000", "Team")
    assert (rp.id, rp.origin) == ("localhost", "http://localhost:8000")


def test_recorded_registration_is_accepted():
    key = registered()
    assert key.credential_id == VECTORS["registration"]["id"]
    assert key.sign_count == 1
    assert key.transports == ["internal"]
    assert key.public_key  # COSE, kept to check every later signature


def test_recorded_assertion_is_accepted_and_moves_the_counter():
    assert assertion() == 2


def test_registration_from_another_origin_is_refused():
    rp = ceremony.RelyingParty(id="localhost", origin="http://localhost:8001", name="T")
    with pytest.raises(ceremony.Refused):
        ceremony.registration_verify(rp=rp, challenge=REGISTRATION_CHALLENGE, data=VECTORS["registration"])


def test_registration_for_another_rp_id_is_refused():
    rp = ceremony.RelyingParty(id="example.com", origin="http://localhost:8000", name="T")
    with pytest.raises(ceremony.Refused):
        ceremony.registration_verify(rp=rp, challenge=REGISTRATION_CHALLENGE, data=VECTORS["registration"])


def test_registration_with_another_challenge_is_refused():
    with pytest.raises(ceremony.Refused):
        ceremony.registration_verify(rp=RP, challenge=b"x" * 32, data=VECTORS["registration"])


def test_assertion_from_another_origin_is_refused():
    rp = ceremony.RelyingParty(id="localhost", origin="https://evil.example", name="T")
    with pytest.raises(ceremony.Refused):
        assertion(rp=rp)


def test_assertion_for_another_rp_id_is_refused():
    rp = ceremony.RelyingParty(id="evil.example", origin="http://localhost:8000", name="T")
    with pytest.raises(ceremony.Refused):
        assertion(rp=rp)


def test_assertion_answering_another_challenge_is_refused():
    with pytest.raises(ceremony.Refused):
        assertion(challenge=REGISTRATION_CHALLENGE)


def test_assertion_with_a_counter_not_above_the_last_is_a_counter_went_back():
    for stored in (2, 7):  # the same count again (a replay), or behind the key's (a clone)
        with pytest.raises(ceremony.CounterWentBack) as refused:
            assertion(sign_count=stored)
        assert (refused.value.stored, refused.value.received) == (stored, 2)


def test_assertion_with_a_tampered_signature_is_refused_not_counted_as_a_clone():
    data = json.loads(json.dumps(VECTORS["assertion"]))
    signature = bytearray(ceremony.b64url_decode(data["response"]["signature"]))
    signature[-1] ^= 1
    data["response"]["signature"] = ceremony.b64url_encode(bytes(signature))
    with pytest.raises(ceremony.Refused) as refused:
        assertion(data=data, sign_count=9)  # the counter is only looked at after the signature
    assert not isinstance(refused.value, ceremony.CounterWentBack)


@pytest.mark.parametrize(
    "answer", ["", "not json", "[]", '{"response": 1}', "x" * (ceremony.ANSWER_MAX_CHARS + 1)]
)
def test_malformed_answers_are_refused(answer):
    with pytest.raises(ceremony.Refused):
        ceremony.answer_challenge(ceremony.answer_parse(answer))


def test_answer_without_client_data_is_refused():
    with pytest.raises(ceremony.Refused):
        ceremony.answer_challenge({"response": {"clientDataJSON": "%%%"}})


def test_options_ask_for_no_attestation_and_exclude_known_keys():
    known = [ceremony.KnownCredential(VECTORS["registration"]["id"], ["internal"])]
    options = ceremony.registration_options(
        rp=RP, challenge=b"c" * 32, user_handle=b"h" * 32, user_name="m@x.test", display_name="", exclude=known
    )
    assert options["rp"] == {"name": "Twofactor", "id": "localhost"}
    assert options["attestation"] == "none"
    assert options["excludeCredentials"][0]["id"] == VECTORS["registration"]["id"]
    get = ceremony.authentication_options(rp=RP, challenge=b"c" * 32, allow=known)
    assert get["rpId"] == "localhost"
    assert get["allowCredentials"] == [
        {"id": VECTORS["registration"]["id"], "type": "public-key", "transports": ["internal"]}
    ]


@pytest.mark.parametrize("depth_in", ["answer", "clientDataJSON"])
def test_deeply_nested_json_is_refused_not_a_crash(depth_in):
    nested = "[" * 5000 + "]" * 5000  # within ANSWER_MAX_CHARS, past json's depth
    if depth_in == "answer":
        answer = nested
    else:
        client_data = ceremony.b64url_encode(nested.encode())
        answer = json.dumps({"response": {"clientDataJSON": client_data}})
    with pytest.raises(ceremony.Refused):
        ceremony.answer_challenge(ceremony.answer_parse(answer))
