"""The export part of the Security page, which that page includes with one tag."""

from __future__ import annotations

from django import template

from security.export.views import export_section_context

register = template.Library()


@register.inclusion_tag("security/_export.html", takes_context=True)
def security_export_section(context) -> dict:
    return export_section_context(context["request"].user.account)
