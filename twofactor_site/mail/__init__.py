"""The project's emails, from templates/emails/<name>-subject.txt, -body.txt, -body.html.

``email_send_later`` queues an email in the caller's transaction: one OutgoingEmail row (its
context encrypted) and one task that names the row, through Django's tasks framework
(``django.tasks`` on Django 6, the ``django-tasks`` backport on 5.2) and its database backend
(``django-tasks-db``), so the change that causes an email and the email commit together or
not at all. ``manage.py mail_worker`` (twofactor_site.mail.worker) renders and sends them,
with retries. Nothing is sent over SMTP inside a request, unless the immediate backend is
configured (debug and tests).

Models are imported inside the functions: this package is also the app Django loads first.
"""

from __future__ import annotations

from django.db import transaction
from django.urls import get_script_prefix
from django.utils import translation


def email_send_later(*, to: list[str], name: str, context: dict) -> list:
    """Queue the email ``name`` to each address in ``to`` (one row each) and return the rows.
    ``context`` holds plain values, datetimes and model instances (stored by their primary
    key and loaded again when the email is rendered). It never raises for the mail server:
    whether and when the email went out is the row's ``status``."""
    from security.encryption import encrypt
    from twofactor_site.mail.models import OutgoingEmail
    from twofactor_site.mail.rendering import context_pack
    from twofactor_site.mail.tasks import email_deliver

    sealed = encrypt(context_pack(context))
    language = translation.get_language() or ""
    rows = []
    # No savepoint of its own: inside the caller's transaction, a failure here fails it all.
    with transaction.atomic(savepoint=False):
        for address in to:
            row = OutgoingEmail.objects.create(
                recipient=address,
                name=name,
                context_encrypted=sealed,
                language=language,
                script_prefix=get_script_prefix(),
            )
            email_deliver.enqueue(row.pk)
            rows.append(row)
    return rows

