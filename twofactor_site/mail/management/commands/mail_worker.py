from django.core.management.base import BaseCommand

from twofactor_site.mail.worker import mail_worker_run, tasks_run_ready


class Command(BaseCommand):
    help = "Send queued emails, with retries (one or two per host; see README, Deploying)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="Seconds to wait when nothing is ready (default 1).",
        )
        parser.add_argument(
            "--batch", action="store_true", help="Run what is ready now, then exit."
        )

    def handle(self, *, interval: float, batch: bool, **options) -> None:
        if batch:
            tasks_run_ready()
        else:
            mail_worker_run(interval=interval)
