"""Sending the project's emails from templates/emails/<name>-subject.txt, -body.txt, -body.html."""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

logger = logging.getLogger("twofactor.email")


def email_send(*, to: list[str], name: str, context: dict) -> bool:
    """Render and send one email. False when the mail server could not take it (the caller
    tells the person and lets them retry); the error is logged without the message body."""
    context = {"site_name": settings.SITE_NAME, "site_url": settings.SITE_URL, **context}
    subject = render_to_string(f"emails/{name}-subject.txt", context).strip().replace("\n", " ")
    text = render_to_string(f"emails/{name}-body.txt", context)
    html = render_to_string(f"emails/{name}-body.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, to)
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        logger.warning("email %s could not be sent: %s", name, type(exc).__name__)
        return False
    return True
