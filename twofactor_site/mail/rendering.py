"""An email's context in and out of its encrypted row, and the message made from it.

Rendering happens in the worker, not the request: a password reset for a known address then
costs the request no more template work than one for an unknown address."""

from __future__ import annotations

import datetime
import json

from django.apps import apps
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import models
from django.template.loader import render_to_string
from django.urls import get_script_prefix, set_script_prefix
from django.utils import translation
from django.utils.functional import Promise

from security.encryption import decrypt
from twofactor_site.text import header_safe

_MODEL = "$model"
_DATETIME = "$datetime"


class EmailGone(Exception):
    """A model instance the email speaks of no longer exists (a removed member)."""


def _pack(value):
    if isinstance(value, models.Model):
        return {_MODEL: value._meta.label_lower, "pk": value.pk}
    if isinstance(value, datetime.datetime):
        return {_DATETIME: value.isoformat()}
    if isinstance(value, dict):
        return {str(key): _pack(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_pack(item) for item in value]
    if isinstance(value, Promise):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"an email's context cannot hold a {type(value).__name__}")


def _unpack(value):
    if isinstance(value, dict):
        if _MODEL in value:
            instance = apps.get_model(value[_MODEL])._default_manager.filter(pk=value["pk"]).first()
            if instance is None:
                raise EmailGone(value[_MODEL])
            return instance
        if _DATETIME in value:
            return datetime.datetime.fromisoformat(value[_DATETIME])
        return {key: _unpack(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unpack(item) for item in value]
    return value


def context_pack(context: dict) -> str:
    """``context`` as JSON: plain values as they are, model instances by primary key."""
    return json.dumps(_pack(context))


def email_message(
    *, recipient: str, name: str, sealed_context: str, language: str, script_prefix: str
):
    """The message to send, rendered now from the stored (encrypted) context, in the language
    and under the script prefix (a site under a path) of the request that queued it."""
    context = {
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        **_unpack(json.loads(decrypt(sealed_context))),
    }
    previous_prefix = get_script_prefix()
    set_script_prefix(script_prefix or previous_prefix)
    try:
        with translation.override(language or None):
            # One line whatever the context holds (a team name stored before names were
            # checked): a CR or LF would be a header injection, which Django refuses.
            subject = header_safe(render_to_string(f"emails/{name}-subject.txt", context))
            text = render_to_string(f"emails/{name}-body.txt", context)
            html = render_to_string(f"emails/{name}-body.html", context)
    finally:
        set_script_prefix(previous_prefix)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [recipient])
    message.attach_alternative(html, "text/html")
    return message
