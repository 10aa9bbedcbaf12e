"""Signing-in link tokens: random, stored only as a hash, bound to one browser.

A link's token is 256 random bits, so a plain SHA-256 of it is as good as a keyed hash: the
stored digest cannot be reversed or guessed. The browser binding is the pending login's nonce,
which lives only in that browser's session; the link row stores its digest.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.contrib.auth.tokens import PasswordResetTokenGenerator

TOKEN_BYTES = 32  # 256 bits: unguessable within any link lifetime


def link_token_new() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def digests_match(value: str, expected_digest: str) -> bool:
    return hmac.compare_digest(digest(value), expected_digest)


# --- Set-password links: one generator per job ----------------------------------------------
# Django's tokens are an HMAC over the user's state (password hash, last login) keyed by
# SECRET_KEY and a salt. Two jobs with one salt would make a reset link a valid invitation and
# the other way round (and Django's PasswordResetConfirmView keeps either under the same
# session key): each job has its own salt, so a token made for one fails the other's check.


class _PasswordResetTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "twofactor.accounts.tokens.password-reset"


class _InvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "twofactor.accounts.tokens.invitation"


password_reset_tokens = _PasswordResetTokenGenerator()
invitation_tokens = _InvitationTokenGenerator()
