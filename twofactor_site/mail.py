"""Sending the project's emails from templates/emails/<name>-subject.txt, -body.txt, -body.html."""

from __future__ import annotations

import logging
import os
import smtplib
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import (
    clear_script_prefix,
    get_script_prefix,
    get_urlconf,
    set_script_prefix,
    set_urlconf,
)
from django.utils import translation

from twofactor_site.text import header_safe

logger = logging.getLogger("twofactor.email")


def email_send(*, to: list[str], name: str, context: dict) -> bool:
    """Render and send one email. False when the mail server could not take it (the caller
    tells the person and lets them retry); the error is logged without the message body."""
    context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    # One line whatever the context holds (a team name stored before names were checked):
    # a CR or LF would be a header injection, which Django refuses with an exception.
    subject = header_safe(render_to_string(f"emails/{name}-subject.txt", context))
    text = render_to_string(f"emails/{name}-body.txt", context)
    html = render_to_string(f"emails/{name}-body.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, to)
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except (smtplib.SMTPException, OSError, BadHeaderError) as exc:
        logger.warning("email %s could not be sent: %s", name, type(exc).__name__)
        return False
    return True


# --- Sending off the request path --------------------------------------------------------------
# A reply that waits for the mail server tells whoever times it whether mail went out, and so
# whether an address is known (a password reset mails only known password members). Such mail
# is rendered and sent by this pool instead; the request answers at once, mail or not.
# Two workers: mail is rare (every sender is rate limited) and each send mostly waits on a
# socket; more would only open more connections to the mail server at once.
BACKGROUND_WORKERS = 2

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_pending: set[Future] = set()


def _reset_after_fork() -> None:
    """A pool's threads do not survive fork (gunicorn --preload): a child starts its own."""
    global _lock, _executor, _pending
    _lock = threading.Lock()
    _executor = None
    _pending = set()


os.register_at_fork(after_in_child=_reset_after_fork)


def _email_send_quietly(*, to: list[str], name: str, context: dict) -> None:
    try:
        email_send(to=to, name=name, context=context)
    except Exception as exc:  # anything at all (a template, a backend): nothing may escape
        # The exception's type only: its text may quote the recipient or the message.
        logger.warning("email %s could not be sent: %s", name, type(exc).__name__)


def _email_send_in_worker(
    language: str | None, script_prefix: str, urlconf: str | None, **email
) -> None:
    # Render as the request would have: in its language, with its script prefix and URLconf
    # for {% url %} (all three are per thread).
    set_script_prefix(script_prefix)
    set_urlconf(urlconf)
    try:
        with translation.override(language):
            _email_send_quietly(**email)
    finally:
        set_urlconf(None)
        clear_script_prefix()


def _forget(future: Future) -> None:
    with _lock:
        _pending.discard(future)


def email_send_later(*, to: list[str], name: str, context: dict) -> None:
    """email_send, but on the background pool when TWOFACTOR_EMAIL_IN_BACKGROUND is on (else
    now), and it never raises: a failure is logged with the email's name and the exception's
    type, nothing more, and the caller answers as if the mail went out. ``context`` is read
    in another thread: plain values and loaded model instances, nothing that queries."""
    if not settings.TWOFACTOR_EMAIL_IN_BACKGROUND:
        _email_send_quietly(to=to, name=name, context=context)
        return
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(
                max_workers=BACKGROUND_WORKERS, thread_name_prefix="email"
            )
        future = _executor.submit(
            _email_send_in_worker,
            translation.get_language(),
            get_script_prefix(),
            get_urlconf(),
            to=to,
            name=name,
            context=context,
        )
        _pending.add(future)
    future.add_done_callback(_forget)


def wait_for_background(timeout: float | None = 30) -> bool:
    """Wait until every email queued so far has been sent or given up on; True if all were.
    For tests that read the outbox, and for a process that wants to drain before it exits."""
    with _lock:
        pending = list(_pending)
    _done, not_done = wait(pending, timeout=timeout)
    return not not_done
