"""How a member's set-up deadline reads in a sentence ("14 January 2027")."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils.dateformat import format as date_format

register = template.Library()


@register.filter
def deadline(value: datetime | None) -> str:
    """The day, as the requirement's banner and emails say it; with the time (UTC) when the
    deadline is not the start of a day (a member's grace period ends when they joined)."""
    if value is None:
        return ""
    if (value.hour, value.minute) == (0, 0):
        return date_format(value, "j F Y")
    return date_format(value, "j F Y, H:i T")
