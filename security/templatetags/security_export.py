"""The export part of the Security page, which that page includes with one tag."""

from __future__ import annotations

from django import template

from security.export.forms import SecurityLogExportForm
from security.export.views import _member_emails

register = template.Library()


@register.inclusion_tag("security/_export.html", takes_context=True)
def security_export_section(context) -> dict:
    account = context["request"].user.account
    return {
        "export_form": SecurityLogExportForm(account=account),
        "export_members": _member_emails(account),
    }
