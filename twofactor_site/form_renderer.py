"""Django's form renderer, with the plain ``<input>`` widgets written in Python.

Every page with a form renders its inputs through Django's widget templates: ``text.html``
includes ``input.html``, which includes ``attrs.html`` and loops over the attributes. On the
sign-in pages that was about a quarter of the page's CPU (profiled with `make profile`) for
markup that is one line. Here the single-input widgets (text, email, password, number, url,
tel, search, hidden) are written the way those templates write them, byte for byte
(tests/site/test_form_renderer.py compares the two); every other widget, and every
form, field or error template, still goes through Django's templates.
"""

from __future__ import annotations

from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

# Widget templates that are exactly ``{% include "django/forms/widgets/input.html" %}``.
_INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in ("input", "text", "email", "password", "number", "url", "tel", "search", "hidden")
)


def _text(value) -> str:
    """``{{ value|stringformat:'s' }}`` under autoescaping."""
    return conditional_escape(value if isinstance(value, SafeString) else str(value))


def render_input(widget: dict) -> SafeString:
    """``django/forms/widgets/input.html`` with its ``attrs.html``."""
    parts = [f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"']
    if widget["value"] is not None:
        parts.append(f' value="{_text(widget["value"])}"')
    for name, value in widget["attrs"].items():
        if value is False:
            continue
        parts.append(f" {conditional_escape(name)}")
        if value is not True:
            parts.append(f'="{_text(value)}"')
    parts.append(">")
    return mark_safe("".join(parts))  # noqa: S308 - every part above is escaped


class FormRenderer(DjangoTemplates):
    def render(self, template_name, context, request=None):
        widget = context.get("widget") if template_name in _INPUT_TEMPLATES else None
        if widget is not None and widget.get("template_name") == template_name:
            return render_input(widget)
        return super().render(template_name, context, request=request)
