"""Reading a team's security log for export, a chunk at a time."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from django.db.models import Q

from security.export.rows import FIELDS
from security.models import SecurityEvent

# Events per query: memory stays at one chunk's rows however long the log is.
CHUNK_SIZE = 2000


def events_for_export(
    *,
    account_id: int,
    since: datetime.datetime | None,
    until: datetime.datetime,
    email: str = "",
    kind: str = "",
    chunk_size: int = CHUNK_SIZE,
) -> Iterator[list[tuple]]:
    """The team's events from ``since`` (inclusive) to ``until`` (exclusive), oldest first,
    as lists of ``rows.FIELDS`` tuples. Each chunk is its own query, continuing after the
    last row seen (keyset pagination on time and id): no cursor is held open while a slow
    client downloads, and no row is read twice or skipped when events are added meanwhile.
    ``email`` keeps events that happened to that address or were done by it."""
    events = SecurityEvent.objects.filter(account_id=account_id, created_at__lt=until)
    if since is not None:
        events = events.filter(created_at__gte=since)
    if email:
        events = events.filter(Q(user_email=email) | Q(actor_email=email))
    if kind:
        events = events.filter(kind=kind)
    events = events.order_by("created_at", "id").values_list(*FIELDS)
    after = None
    while True:
        page = events
        if after is not None:
            moment, pk = after
            page = events.filter(created_at__gte=moment).filter(
                Q(created_at__gt=moment) | Q(id__gt=pk)
            )
        chunk = list(page[:chunk_size])
        if chunk:
            yield chunk
        if len(chunk) < chunk_size:
            return
        after = chunk[-1][0], chunk[-1][1]


def team_has_address(*, account_id: int, email: str) -> bool:
    """Whether ``email`` is or was someone in this team's log: a member now, or the member or
    actor of one of its events (a removed member stays in the log under their address)."""
    from accounts.models import User

    return (
        User.objects.filter(account_id=account_id, email=email).exists()
        or SecurityEvent.objects.filter(account_id=account_id)
        .filter(Q(user_email=email) | Q(actor_email=email))
        .exists()
    )
