from django.core.management.base import BaseCommand

from security.reminders import reminders_send


class Command(BaseCommand):
    help = (
        "Email members who have not set up the factor their team's requirement will ask for, "
        "7 days and 1 day before their deadline, each once. Run it from cron (hourly is "
        "plenty); running it again, or twice at once, sends nothing twice."
    )

    def handle(self, *args, **options) -> None:
        sent = reminders_send()
        self.stdout.write(f"{sent} reminder(s) sent.")
