"""`make run`'s email backend: Django's console backend, then each link of the email's text on
a line of its own (the MIME text above may wrap a long URL)."""

from __future__ import annotations

import re

from django.core.mail.backends.console import EmailBackend as ConsoleBackend

LINK = re.compile(r"https?://\S+")


class EmailBackend(ConsoleBackend):
    def write_message(self, message) -> None:
        super().write_message(message)
        for url in LINK.findall(message.body):
            self.stream.write(f"\n    link: {url}\n\n")
