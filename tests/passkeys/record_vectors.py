"""Record a real registration and assertion from Chromium's virtual authenticator (ctap2,
internal, resident key, user verified), with fixed challenges, at http://localhost:8000 (a
page Playwright serves itself: no server runs). Run once, by hand:

    .venv/bin/python -m tests.passkeys.record_vectors tests/passkeys/vectors.json

test_ceremony.py checks our ceremonies against what it wrote. Not a test module."""

import json
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.passkeys.authenticator import chromium_authenticator

REG_CHALLENGE = "cmVnaXN0cmF0aW9uLWNoYWxsZW5nZS0wMTIzNDU2Nzg5YWJj"  # fixed
GET_CHALLENGE = "YXNzZXJ0aW9uLWNoYWxsZW5nZS0wMTIzNDU2Nzg5YWJjZGVm"
PAGE = "<!doctype html><title>v</title><p>vectors</p>"
JS = r"""
async ([regChallenge, getChallenge]) => {
  const b = (t) => { const s = atob(t.replace(/-/g,'+').replace(/_/g,'/') + '==='.slice((t.length+3)%4)); return Uint8Array.from(s, c => c.charCodeAt(0)).buffer; };
  const t = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g,'-').replace(/\//g,'_').replace(/=+$/,'');
  const cred = await navigator.credentials.create({publicKey: {
    rp: {id: 'localhost', name: 'Twofactor'},
    user: {id: new Uint8Array([1,2,3,4,5,6,7,8]), name: 'member@example.test', displayName: 'Member'},
    challenge: b(regChallenge), pubKeyCredParams: [{type: 'public-key', alg: -7}, {type: 'public-key', alg: -257}],
    authenticatorSelection: {residentKey: 'preferred', userVerification: 'preferred'}, attestation: 'none', timeout: 60000}});
  const registration = {id: cred.id, rawId: t(cred.rawId), type: cred.type, clientExtensionResults: cred.getClientExtensionResults(),
    response: {clientDataJSON: t(cred.response.clientDataJSON), attestationObject: t(cred.response.attestationObject), transports: cred.response.getTransports()}};
  const got = await navigator.credentials.get({publicKey: {challenge: b(getChallenge), rpId: 'localhost',
    allowCredentials: [{type: 'public-key', id: cred.rawId}], userVerification: 'preferred', timeout: 60000}});
  const assertion = {id: got.id, rawId: t(got.rawId), type: got.type, clientExtensionResults: got.getClientExtensionResults(),
    response: {clientDataJSON: t(got.response.clientDataJSON), authenticatorData: t(got.response.authenticatorData), signature: t(got.response.signature),
               userHandle: got.response.userHandle ? t(got.response.userHandle) : null}};
  return {registration, assertion};
}
"""
with sync_playwright() as p:
    browser = p.chromium.launch(
        executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"]
    )
    page = browser.new_page()
    page.route(
        "http://localhost:8000/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body=PAGE),
    )
    chromium_authenticator(page)
    page.goto("http://localhost:8000/")
    out = page.evaluate(JS, [REG_CHALLENGE, GET_CHALLENGE])
    browser.close()
out = {
    "origin": "http://localhost:8000",
    "rp_id": "localhost",
    "registration_challenge": REG_CHALLENGE,
    "assertion_challenge": GET_CHALLENGE,
    "recorded_with": "Chromium virtual authenticator (ctap2, internal, resident key, user verified)",
    **out,
}
Path(sys.argv[1]).write_text(json.dumps(out, indent=2) + "\n")
