"""Recording security events: one table, one logger line each, never a secret."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.http import HttpRequest

from security.models import SecurityEvent
from twofactor_site.net import USER_AGENT_MAX, client_ip

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger("twofactor.security")

Kind = SecurityEvent.Kind


@dataclass(frozen=True)
class Audit:
    """Who is asking, for the security log: the client's address and browser, and the member
    signed in on the request (if any). Built once per request (``Audit.of``) and handed to
    the services, which never see the request."""

    ip: str | None = None
    user_agent: str = ""
    actor: User | None = None

    @classmethod
    def of(cls, request: HttpRequest) -> Audit:
        signed_in = getattr(request, "user", None)
        return cls(
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            actor=signed_in if signed_in is not None and signed_in.is_authenticated else None,
        )


# No request: a management command, a shell, a model's save.
NO_AUDIT = Audit()


def event_build(
    *,
    kind: str,
    audit: Audit = NO_AUDIT,
    user=None,
    actor=None,
    account=None,
    email: str = "",
    **detail,
) -> SecurityEvent:
    """One event, not yet stored. ``detail`` must hold no secret: only counts, methods and
    reasons. ``email`` names the user when there is no user row (an unknown address).
    ``actor`` defaults to the member signed in on the audited request."""
    actor = actor if actor is not None else audit.actor
    # When not given, the account is the user's, by the id on the user's row (no query).
    if account is not None:
        account_id = account.pk
    else:
        account_id = user.account_id if user is not None else None
    return SecurityEvent(
        kind=kind,
        account_id=account_id,
        user=user,
        user_email=user.email if user is not None else email,
        actor=actor,
        actor_email=actor.email if actor is not None else "",
        ip=audit.ip,
        user_agent=audit.user_agent[:USER_AGENT_MAX],
        detail=detail,
    )


def events_save(*events: SecurityEvent) -> list[SecurityEvent]:
    """Store events in one INSERT and log each. A single event is saved as one row, outside
    any transaction (bulk_create wraps even one row in BEGIN and COMMIT)."""
    if len(events) == 1:
        events[0].save(force_insert=True)
        saved = list(events)
    else:
        saved = SecurityEvent.objects.bulk_create(events)
    for event in saved:
        logger.info(
            "event=%s user=%s actor=%s ip=%s detail=%s",
            event.kind,
            event.user_id or "-",
            event.actor_id or "-",
            event.ip or "-",
            event.detail,
        )
    return saved


def event_record(**fields) -> SecurityEvent:
    """Store one event (see ``event_build``) and log it."""
    return events_save(event_build(**fields))[0]
