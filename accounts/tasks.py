"""The accounts' work done by the mail worker (twofactor_site.mail.worker)."""

from __future__ import annotations

from django.urls import get_script_prefix, set_script_prefix
from django.utils import translation

from security.encryption import decrypt

try:  # Django 6
    from django.tasks import task
except ImportError:  # Django 5.2: the backport
    from django_tasks import task


@task()
def password_reset_request(address_sealed: str, script_prefix: str, language: str) -> None:
    """A password reset asked for the (encrypted) address: its emails are queued from here,
    rendered as the request would have (its script prefix and language)."""
    from accounts.password_views import password_reset_emails_send

    previous = get_script_prefix()
    set_script_prefix(script_prefix)
    try:
        with translation.override(language or None):
            password_reset_emails_send(address=decrypt(address_sealed))
    finally:
        set_script_prefix(previous)
