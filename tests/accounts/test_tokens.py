"""Link tokens: random, 256 bits, compared by hash in constant time."""

import hashlib

from accounts import tokens


def test_link_token_new_is_random_and_long():
    made = {tokens.link_token_new() for _ in range(50)}
    assert len(made) == 50
    assert all(len(token) >= 43 for token in made)  # 32 bytes in base64url
    assert all(token.replace("-", "").replace("_", "").isalnum() for token in made)


def test_digest_is_sha256_hex():
    assert tokens.digest("abc") == hashlib.sha256(b"abc").hexdigest()


def test_digests_match_only_the_same_value():
    stored = tokens.digest("secret")
    assert tokens.digests_match("secret", stored)
    assert not tokens.digests_match("Secret", stored)
    assert not tokens.digests_match("", stored)
