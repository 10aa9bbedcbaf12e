"""The sign-in link services: issue, check, consume."""

import time
from datetime import timedelta

import pytest

from accounts import tokens
from accounts.login_flow import PendingLogin
from accounts.models import SignInLink
from accounts.sign_in_links import (
    LinkState,
    sign_in_link_check,
    sign_in_link_consume,
    sign_in_link_issue,
)
from accounts.stages import EMAIL_LINK
from accounts.tokens import digest


def _pending(user, nonce: str = "browser-nonce") -> PendingLogin:
    return PendingLogin(
        user_id=user.pk,
        stage=EMAIL_LINK.key,
        nonce=nonce,
        started=time.time(),
        next_url="",
        auth_hash=user.get_session_auth_hash(),
    )


def _token(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def test_sign_in_link_issue_builds_url_from_site_url(member, settings):
    settings.SITE_URL = "https://login.example.org"
    url = sign_in_link_issue(user=member, pending=_pending(member))
    assert url.startswith("https://login.example.org/login/link/")
    assert len(_token(url)) >= 43  # 256 bits in base64


def test_sign_in_link_issue_stores_only_hashes(member):
    pending = _pending(member, nonce="the-secret-nonce")
    token = _token(sign_in_link_issue(user=member, pending=pending))
    link = SignInLink.objects.get()
    values = [str(getattr(link, f.attname)) for f in SignInLink._meta.concrete_fields]
    assert not any(token in v or "the-secret-nonce" in v for v in values)
    assert link.token_hash == tokens.digest(token)
    assert link.browser_hash == tokens.digest("the-secret-nonce")


def test_sign_in_link_issue_expiry_is_the_setting(member, settings):
    settings.TWOFACTOR_EMAIL_LINK_MINUTES = 7
    sign_in_link_issue(user=member, pending=_pending(member))
    link = SignInLink.objects.get()
    assert link.expires_at - link.created_at == timedelta(minutes=7)


def test_sign_in_link_issue_retires_older_links_of_the_user_only(member, account_admin):
    old = _token(sign_in_link_issue(user=member, pending=_pending(member)))
    others = _token(sign_in_link_issue(user=account_admin, pending=_pending(account_admin)))
    new = _token(sign_in_link_issue(user=member, pending=_pending(member)))
    pending = _pending(member)
    assert sign_in_link_check(token_digest=digest(old), pending=pending).state == LinkState.REPLACED
    assert sign_in_link_check(token_digest=digest(new), pending=pending).state == LinkState.VALID
    assert (
        sign_in_link_check(token_digest=digest(others), pending=_pending(account_admin)).state
        == LinkState.VALID
    )
    assert not sign_in_link_consume(token_digest=digest(old), pending=pending)


def test_sign_in_link_consume_once(member):
    pending = _pending(member)
    token = _token(sign_in_link_issue(user=member, pending=pending))
    assert sign_in_link_consume(token_digest=digest(token), pending=pending)
    assert not sign_in_link_consume(token_digest=digest(token), pending=pending)
    assert sign_in_link_check(token_digest=digest(token), pending=pending).state == LinkState.USED


@pytest.mark.parametrize("who", ["other-nonce", "other-user", "no-pending"])
def test_sign_in_link_other_browser_neither_checks_nor_consumes(member, account_admin, who):
    pending = _pending(member)
    token = _token(sign_in_link_issue(user=member, pending=pending))
    stranger = {
        "other-nonce": _pending(member, nonce="someone-else"),
        "other-user": _pending(account_admin),
        "no-pending": None,
    }[who]
    assert (
        sign_in_link_check(token_digest=digest(token), pending=stranger).state
        == LinkState.OTHER_BROWSER
    )
    if stranger is not None:
        assert not sign_in_link_consume(token_digest=digest(token), pending=stranger)
    assert sign_in_link_consume(token_digest=digest(token), pending=pending)


def test_sign_in_link_other_browser_learns_nothing_about_use(member):
    pending = _pending(member)
    token = _token(sign_in_link_issue(user=member, pending=pending))
    sign_in_link_consume(token_digest=digest(token), pending=pending)
    state = sign_in_link_check(
        token_digest=digest(token), pending=_pending(member, nonce="x")
    ).state
    assert state == LinkState.OTHER_BROWSER


def test_sign_in_link_expired_neither_checks_nor_consumes(member, clock, settings):
    pending = _pending(member)
    token = _token(sign_in_link_issue(user=member, pending=pending))
    clock.advance(minutes=settings.TWOFACTOR_EMAIL_LINK_MINUTES)
    assert (
        sign_in_link_check(token_digest=digest(token), pending=pending).state == LinkState.EXPIRED
    )
    assert not sign_in_link_consume(token_digest=digest(token), pending=pending)
    assert SignInLink.objects.get().used_at is None


def test_sign_in_link_unknown_token(member):
    assert (
        sign_in_link_check(token_digest=digest("nope"), pending=_pending(member)).state
        == LinkState.UNKNOWN
    )
    assert not sign_in_link_consume(token_digest=digest("nope"), pending=_pending(member))


def test_sign_in_link_removed_user_link_is_gone(member):
    pending = _pending(member)
    token = _token(sign_in_link_issue(user=member, pending=pending))
    member.delete()
    assert (
        sign_in_link_check(token_digest=digest(token), pending=pending).state == LinkState.UNKNOWN
    )
