"""How long the security log keeps its events (TWOFACTOR_SECURITY_LOG_DAYS), and pruning."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone

from security.models import SecurityEvent

# Rows per DELETE: each batch is its own short statement, so pruning a large backlog never
# holds locks on the log for long nor builds one huge transaction.
PRUNE_BATCH_SIZE = 5000


def security_log_cutoff() -> datetime.datetime:
    """Events older than this are past the retention period."""
    return timezone.now() - datetime.timedelta(days=settings.TWOFACTOR_SECURITY_LOG_DAYS)


def security_events_prune(*, before: datetime.datetime, batch_size: int = PRUNE_BATCH_SIZE) -> int:
    """Delete every event created before ``before``, oldest first, ``batch_size`` at a time;
    how many were deleted. Running it again deletes nothing more: it is safe to repeat."""
    deleted = 0
    while True:
        batch = list(
            SecurityEvent.objects.filter(created_at__lt=before)
            .order_by("created_at", "id")
            .values_list("id", flat=True)[:batch_size]
        )
        if not batch:
            return deleted
        deleted += SecurityEvent.objects.filter(id__in=batch).delete()[0]
        if len(batch) < batch_size:
            return deleted
