"""The emailed sign-in link, the default second step: send, issue, check, consume, retire.

Its pure token part (random token, digests, browser binding) is accounts.tokens; the page
that opens it is accounts.views.login_link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import tokens
from accounts.models import SignInLink, User
from security.events import Audit, Kind, event_record
from twofactor_site.mail import email_send_later
from twofactor_site.mail.models import OutgoingEmail
from twofactor_site.net import device_name

if TYPE_CHECKING:
    from accounts.login_flow import PendingLogin

LINK_EMAIL = "sign-in-link"  # templates/emails/sign-in-link-*


def sign_in_link_send(*, user: User, pending: PendingLogin, audit: Audit) -> OutgoingEmail:
    """Issue a new link for ``pending`` and queue its email, saying when, from where and from
    which browser it was asked for: the link and its email commit together or not at all."""
    with transaction.atomic():
        url = sign_in_link_issue(user=user, pending=pending)
        context = {
            "user": user,
            "url": url,
            "minutes": settings.TWOFACTOR_EMAIL_LINK_MINUTES,
            "requested_at": timezone.now(),
            "ip": audit.ip,
            "browser": device_name(audit.user_agent) or _("an unknown browser"),
        }
        (email,) = email_send_later(to=[user.email], name=LINK_EMAIL, context=context)
        event_record(kind=Kind.LINK_SENT, audit=audit, user=user)
    return email


def sign_in_link_email_status(*, user: User) -> str | None:
    """Where the newest sign-in link email to ``user`` stands (an OutgoingEmail.Status), or
    None when there is none."""
    return (
        OutgoingEmail.objects.filter(recipient=user.email, name=LINK_EMAIL)
        .order_by("-pk")
        .values_list("status", flat=True)
        .first()
    )


def sign_in_link_issue(*, user: User, pending: PendingLogin) -> str:
    """Make a new sign-in link for ``pending`` and return its absolute URL (built from
    SITE_URL, never from the request). Every older unused link of the user is retired."""
    token = tokens.link_token_new()
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        SignInLink.objects.filter(user=user, used_at=None, retired_at=None).update(retired_at=now)
        SignInLink.objects.create(
            user=user,
            token_hash=tokens.digest(token),
            browser_hash=tokens.digest(pending.nonce),
            created_at=now,
            expires_at=now + timedelta(minutes=settings.TWOFACTOR_EMAIL_LINK_MINUTES),
        )
    return settings.SITE_URL + reverse("accounts:login-link-token", args=[token])


class LinkState(str, Enum):
    VALID = "valid"
    UNKNOWN = "unknown"
    OTHER_BROWSER = "other-browser"
    EXPIRED = "expired"
    USED = "used"
    REPLACED = "replaced"


@dataclass(frozen=True)
class LinkCheck:
    state: LinkState
    link: SignInLink | None = None


def sign_in_link_check(*, token_digest: str, pending: PendingLogin | None) -> LinkCheck:
    """What opening the link whose token has this digest, in a browser holding ``pending``,
    would do. Reads only. (Only the digest travels past the first request: see
    accounts.views.login_link_token.)"""
    link = SignInLink.objects.filter(token_hash=token_digest).first()
    if link is None:
        return LinkCheck(LinkState.UNKNOWN)
    if (
        pending is None
        or pending.user_id != link.user_id
        or not tokens.digests_match(pending.nonce, link.browser_hash)
    ):
        # Said before anything else: whether it is used or expired is none of this browser's
        # business, and its owner's own click must still work.
        return LinkCheck(LinkState.OTHER_BROWSER, link)
    if link.used_at is not None:
        return LinkCheck(LinkState.USED, link)
    if link.retired_at is not None:
        return LinkCheck(LinkState.REPLACED, link)
    if link.expires_at <= timezone.now():
        return LinkCheck(LinkState.EXPIRED, link)
    return LinkCheck(LinkState.VALID, link)


def sign_in_link_consume(*, token_digest: str, pending: PendingLogin) -> bool:
    """Use the link up, once: one conditional UPDATE, so of two racing requests exactly one
    wins. True when this call consumed it."""
    updated = SignInLink.objects.filter(
        token_hash=token_digest,
        browser_hash=tokens.digest(pending.nonce),
        user_id=pending.user_id,
        used_at=None,
        retired_at=None,
        expires_at__gt=timezone.now(),
    ).update(used_at=timezone.now())
    return updated == 1


def sign_in_links_retire(*, user: User) -> None:
    """Retire every unused link of ``user``: nothing emailed before now still works."""
    SignInLink.objects.filter(user=user, used_at=None, retired_at=None).update(
        retired_at=timezone.now()
    )


def sign_in_link_usable(*, pending: PendingLogin | None) -> SignInLink | None:
    """The link ``pending`` can still be finished with (the newest sent to this browser, not
    used, replaced or expired), or None. Reads only: for saying "the last link still works"."""
    if pending is None:
        return None
    return (
        SignInLink.objects.filter(
            user_id=pending.user_id,
            browser_hash=tokens.digest(pending.nonce),
            used_at=None,
            retired_at=None,
            expires_at__gt=timezone.now(),
        )
        .order_by("-created_at")
        .first()
    )
