from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from security.retention import PRUNE_BATCH_SIZE, security_events_prune, security_log_cutoff


class Command(BaseCommand):
    help = (
        "Delete security events older than TWOFACTOR_SECURITY_LOG_DAYS, in batches. "
        "Safe to run again (from cron, daily): it says how many it deleted."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=PRUNE_BATCH_SIZE,
            help=f"Events per DELETE (default {PRUNE_BATCH_SIZE})",
        )

    def handle(self, *args, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        cutoff = security_log_cutoff()
        deleted = security_events_prune(before=cutoff, batch_size=batch_size)
        days = settings.TWOFACTOR_SECURITY_LOG_DAYS
        self.stdout.write(
            f"Deleted {deleted} security event{'' if deleted == 1 else 's'} older than "
            f"{days} days (before {cutoff:%Y-%m-%d %H:%M} UTC)."
        )
