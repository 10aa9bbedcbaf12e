"""One row per email the product sends: who to, which template, its context encrypted (a
sign-in link or a reset token in a plaintext table would be a secret in every backup), and
where its delivery stands. The task that sends it carries only the row's id."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class OutgoingEmail(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RETRYING = "retrying", "Retrying: the mail server did not take it yet"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    UNSENT = (Status.QUEUED, Status.RETRYING)

    recipient = models.EmailField(max_length=254)
    name = models.CharField(max_length=64, help_text="templates/emails/<name>-*")
    # Fernet (security.encryption), key outside the database: the context holds link URLs.
    context_encrypted = models.TextField()
    # The request's language and script prefix (a site under a path), for rendering later.
    language = models.CharField(max_length=16, blank=True)
    script_prefix = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The exception's type and the SMTP reply code only: a reply's text may quote the address.
    last_error = models.CharField(max_length=100, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["recipient", "status"]),
            models.Index(fields=["status", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.name} to {self.recipient} ({self.status})"
