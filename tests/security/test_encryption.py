"""Secrets at rest: security/encryption.py."""

import hashlib

import pytest
from cryptography.fernet import Fernet

from security import encryption

KEY_OLD = Fernet.generate_key().decode()
KEY_NEW = Fernet.generate_key().decode()


def test_encrypt_round_trip_and_not_plaintext():
    token = encryption.encrypt("JBSWY3DPEHPK3PXP")
    assert "JBSWY3DPEHPK3PXP" not in token
    assert encryption.decrypt(token) == "JBSWY3DPEHPK3PXP"


def test_encrypt_same_value_twice_differs():
    assert encryption.encrypt("same") != encryption.encrypt("same")


def test_encrypt_configured_key_round_trip(settings):
    settings.TWOFACTOR_ENCRYPTION_KEYS = [KEY_OLD]
    assert encryption.decrypt(encryption.encrypt("secret")) == "secret"


def test_decrypt_wrong_key_fails(settings):
    settings.TWOFACTOR_ENCRYPTION_KEYS = [KEY_OLD]
    token = encryption.encrypt("secret")
    settings.TWOFACTOR_ENCRYPTION_KEYS = [KEY_NEW]
    with pytest.raises(encryption.DecryptionError):
        encryption.decrypt(token)


def test_decrypt_tampered_token_fails():
    token = encryption.encrypt("secret")
    tampered = token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB")
    with pytest.raises(encryption.DecryptionError):
        encryption.decrypt(tampered)


def test_decrypt_key_derived_from_secret_key_depends_on_it(settings):
    settings.TWOFACTOR_ENCRYPTION_KEYS = []
    token = encryption.encrypt("secret")
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    with pytest.raises(encryption.DecryptionError):
        encryption.decrypt(token)


def test_rotation_old_key_still_decrypts_new_key_encrypts(settings):
    settings.TWOFACTOR_ENCRYPTION_KEYS = [KEY_OLD]
    old_token = encryption.encrypt("secret")
    settings.TWOFACTOR_ENCRYPTION_KEYS = [KEY_NEW, KEY_OLD]
    assert encryption.decrypt(old_token) == "secret"
    new_token = encryption.encrypt("secret")
    settings.TWOFACTOR_ENCRYPTION_KEYS = [KEY_NEW]
    assert encryption.decrypt(new_token) == "secret"
    with pytest.raises(encryption.DecryptionError):
        encryption.decrypt(old_token)


def test_keyed_digest_is_not_plain_sha256_and_is_stable():
    digest = encryption.keyed_digest("abcdefghjk")
    assert digest != hashlib.sha256(b"abcdefghjk").hexdigest()
    assert digest == encryption.keyed_digest("abcdefghjk")
    assert digest != encryption.keyed_digest("abcdefghjm")
    assert len(digest) == 64


def test_keyed_digest_depends_on_the_key(settings):
    settings.TWOFACTOR_ENCRYPTION_KEYS = [KEY_OLD]
    old = encryption.keyed_digest("abcdefghjk")
    settings.TWOFACTOR_ENCRYPTION_KEYS = [KEY_NEW]
    assert encryption.keyed_digest("abcdefghjk") != old
    settings.TWOFACTOR_ENCRYPTION_KEYS = []
    derived = encryption.keyed_digest("abcdefghjk")
    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    assert encryption.keyed_digest("abcdefghjk") != derived


def test_keyed_digests_survive_key_rotation(settings):
    """Adding a new key in front must not orphan the digests stored under the old one."""
    settings.TWOFACTOR_ENCRYPTION_KEYS = [KEY_OLD]
    stored = encryption.keyed_digest("abcdefghjk")
    settings.TWOFACTOR_ENCRYPTION_KEYS = [KEY_NEW, KEY_OLD]
    assert stored in encryption.keyed_digest_candidates("abcdefghjk")
    assert encryption.keyed_digest("abcdefghjk") in encryption.keyed_digest_candidates("abcdefghjk")
    settings.TWOFACTOR_ENCRYPTION_KEYS = [KEY_NEW]
    assert stored not in encryption.keyed_digest_candidates("abcdefghjk")
