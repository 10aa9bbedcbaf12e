"""What a completed sign-in tells the member, beyond the security log's "Signed in".

A sign-in from a browser that never signed in as this member (accounts.known_browsers) emails
them: "New sign-in to <team>: Firefox on Windows, from 203.0.113.7", with what to do if it was
not them. Not a member's very first sign-in: every browser is new then.

A sign-in that follows a password reset, from a browser that had not signed in as that member
before (accounts.known_browsers), is what taking over a mailbox looks like: for a member whose
second step is the emailed link, the mailbox alone is enough to reset the password and then
sign in. The member is emailed ("new sign-in after a password reset") and the team's Security
page shows it to its Account Admins, so it is seen even if the attacker reads the mail too.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from security.events import Audit, Kind, event_build
from security.models import SecurityEvent
from twofactor_site.mail import email_send_later
from twofactor_site.net import client_ip, device_name


def sign_in_notices(
    request: HttpRequest, *, user: User, known_browser: bool, last_login: datetime | None
) -> list[SecurityEvent]:
    """The events (not yet stored) and emails a sign-in of ``user`` in this browser calls
    for. ``last_login``: the member's previous sign-in, read before this one was recorded."""
    if known_browser:
        return []
    after_reset = user.password_reset_at is not None and (
        last_login is None or user.password_reset_at > last_login  # not signed in since
    )
    if after_reset:
        name, kind = "sign-in-after-reset", Kind.SIGN_IN_AFTER_RESET
    elif last_login is not None:
        name, kind = "sign-in-new-browser", Kind.SIGN_IN_NEW_BROWSER
    else:
        return []  # the member's first sign-in
    audit = Audit.of(request)
    email_send_later(
        to=[user.email],
        name=name,
        context={
            "user": user,
            # Read in the mail's thread: the team's name now, not a query there.
            "team": user.account.name if user.account_id is not None else settings.SITE_NAME,
            "when": timezone.now(),
            "ip": client_ip(request) or _("an unknown address"),
            "browser": device_name(audit.user_agent) or _("an unknown browser"),
            "support_email": settings.SUPPORT_EMAIL,
        },
    )
    return [event_build(kind=kind, audit=audit, user=user)]
