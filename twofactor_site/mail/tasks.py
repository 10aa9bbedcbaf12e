"""Sending one queued email: the task the worker runs, with its retries.

A mail server's 5xx reply is final (the address or the message is refused): the email is
marked failed, logged as the security event ``email_failed`` and shown in the admin. A 4xx
reply, a refused or dropped connection, a timeout (anything else) is worth another try: after
TWOFACTOR_EMAIL_RETRY_SECONDS, doubling each time (1, 2, 4, 8 minutes), up to
TWOFACTOR_EMAIL_TRIES tries in all. Emails to one address go out in the order they were
queued: one waits while an earlier one to the same address is unsent.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.utils import timezone

from security.encryption import DecryptionError
from twofactor_site.mail.models import OutgoingEmail
from twofactor_site.mail.rendering import EmailGone, email_message

try:  # Django 6
    from django.tasks import task
except ImportError:  # Django 5.2: the backport
    from django_tasks import task

logger = logging.getLogger("twofactor.email")

Status = OutgoingEmail.Status


@task()
def email_deliver(email_id: int) -> str:
    """Send the OutgoingEmail ``email_id`` if it is still unsent; what happened, in a word."""
    email = OutgoingEmail.objects.filter(pk=email_id, status__in=OutgoingEmail.UNSENT).first()
    if email is None:
        return "done"  # sent or failed already (a task run twice after a worker died)
    can_defer = email_deliver.get_backend().supports_defer
    if can_defer and _wait_for_earlier(email):
        return "waiting"
    try:
        message = email_message(
            recipient=email.recipient,
            name=email.name,
            sealed_context=email.context_encrypted,
            language=email.language,
            script_prefix=email.script_prefix,
        )
    except (EmailGone, DecryptionError, TemplateDoesNotExist, TemplateSyntaxError) as exc:
        _fail(email, type(exc).__name__)
        return "failed"
    try:
        message.send()
    except Exception as exc:  # a mail server's refusal, a network error, a broken backend
        error = _error_name(exc)
        if _is_permanent(exc):
            _fail(email, error)
            return "failed"
        return _retry_later(email, error, can_defer=can_defer)
    OutgoingEmail.objects.filter(pk=email.pk).update(
        status=Status.SENT, attempts=F("attempts") + 1, sent_at=timezone.now(), last_error=""
    )
    logger.info("email %s #%s sent", email.name, email.pk)
    return "sent"


def _wait_for_earlier(email: OutgoingEmail) -> bool:
    """Put ``email`` back while an earlier one to the same address is unsent: it goes again
    just after that one's next try (a member reads their emails in the order they were sent)."""
    earlier = (
        OutgoingEmail.objects.filter(
            recipient=email.recipient, status__in=OutgoingEmail.UNSENT, pk__lt=email.pk
        )
        .order_by("pk")
        .first()
    )
    if earlier is None:
        return False
    now = timezone.now()
    after = max(now, earlier.next_attempt_at or now) + timedelta(
        seconds=settings.TWOFACTOR_EMAIL_ORDER_WAIT_SECONDS
    )
    email_deliver.using(run_after=after).enqueue(email.pk)
    return True


def _smtp_code(exc: BaseException) -> int | None:
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        return min(code for code, _text in exc.recipients.values())
    return None


def _is_permanent(exc: BaseException) -> bool:
    """A 5xx reply (RFC 5321: permanent negative completion), or a message Django refuses to
    build: trying again would be refused again."""
    # A header with a newline: ValueError (Django 6 deprecates BadHeaderError, its 5.2 subclass).
    if isinstance(exc, ValueError):
        return True
    code = _smtp_code(exc)
    return code is not None and 500 <= code < 600


def _error_name(exc: BaseException) -> str:
    """The exception's type and the reply code: never its text, which may quote the address."""
    code = _smtp_code(exc)
    return f"{type(exc).__name__} {code}" if code is not None else type(exc).__name__


def _fail(email: OutgoingEmail, error: str) -> None:
    from accounts.models import User
    from security.events import Kind, event_record

    with transaction.atomic():
        updated = OutgoingEmail.objects.filter(pk=email.pk, status__in=OutgoingEmail.UNSENT).update(
            status=Status.FAILED, attempts=F("attempts") + 1, last_error=error[:100]
        )
        if updated:
            event_record(
                kind=Kind.EMAIL_FAILED,
                user=User.objects.filter(email=email.recipient).first(),
                email=email.recipient,
                name=email.name,
                error=error[:100],
                outgoing_email=email.pk,
            )
    logger.warning("email %s #%s failed for good: %s", email.name, email.pk, error)


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed try: the base, doubled each time."""
    return timedelta(seconds=settings.TWOFACTOR_EMAIL_RETRY_SECONDS * 2 ** (attempts - 1))


def _retry_later(email: OutgoingEmail, error: str, *, can_defer: bool) -> str:
    attempts = email.attempts + 1
    if attempts >= settings.TWOFACTOR_EMAIL_TRIES:
        _fail(email, error)
        return "failed"
    after = timezone.now() + retry_delay(attempts)
    with transaction.atomic():
        OutgoingEmail.objects.filter(pk=email.pk).update(
            status=Status.RETRYING, attempts=attempts, next_attempt_at=after, last_error=error[:100]
        )
        if can_defer:
            email_deliver.using(run_after=after).enqueue(email.pk)
    logger.warning(
        "email %s #%s could not be sent (try %d): %s", email.name, email.pk, attempts, error
    )
    return "retrying"
