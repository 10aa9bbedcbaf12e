"""One labelled input with its help and errors: ``{% field form.email %}``, or
``{% field form.code help=code_help %}`` to say the help differently on one page.

Django's widgets set aria-describedby to ``<id>_helptext`` and ``<id>_error``, and
aria-invalid when there are errors; this writes the elements those ids name. Written in
Python rather than as an included template: an ``{% include %}`` per field made a new context
and rendered a dozen nodes, about a third of the sign-in pages' template time (``make
profile``), for a few lines of markup. tests/site/test_fields.py holds the template it
replaced and checks, for every form of the product, that the markup is the same.
"""

from __future__ import annotations

from django import template
from django.forms import BoundField
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag(name="field")
def field_tag(bound: BoundField, help: str = "") -> SafeString:  # noqa: A002 - the tag's word
    auto_id = bound.auto_id
    parts = [
        format_html(
            '\n<div class="field{}">\n  <label for="{}">{}</label>\n  ',
            " field-invalid" if bound.errors else "",
            bound.id_for_label,
            bound.label,
        )
    ]
    help_text = help or bound.help_text
    if help_text:
        parts.append(format_html('<p class="help" id="{}_helptext">{}</p>', auto_id, help_text))
    parts.append(format_html("\n  {}\n  ", bound))
    if bound.errors:
        errors = " ".join(conditional_escape(error) for error in bound.errors)
        parts.append(
            format_html(
                '\n  <p class="field-error" id="{}_error" role="alert">{}</p>\n  ',
                auto_id,
                mark_safe(errors),  # noqa: S308 - each error escaped above
            )
        )
    parts.append("\n</div>\n")
    return mark_safe("".join(parts))  # noqa: S308 - every part is format_html's or a literal
