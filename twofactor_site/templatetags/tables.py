"""The site's lists (members, sessions, passkeys, trusted browsers, events, domains): one
markup for a table that stacks into cards on a phone, and for the line shown instead when
there is nothing to list."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_block_tag(end_name="endstack_table")
def stack_table(
    content: str, rows: object = True, *, css: str = "", empty: str = "", empty_css: str = "muted"
) -> str:
    """``content`` (the table's caption, head and body) in a table of class ``css`` that stacks
    on a phone, inside the wrapper that scrolls it sideways (static/css/app.css). When ``rows``
    is empty: ``empty`` in a paragraph of class ``empty_css`` instead, or nothing without it."""
    if not rows:
        if not empty:
            return ""
        if not empty_css:
            return format_html("<p>{}</p>", empty)
        return format_html('<p class="{}">{}</p>', empty_css, empty)
    classes = f"{css} stack-table" if css else "stack-table"
    return format_html(
        '<div class="table-wrap">\n<table class="{}">{}</table>\n</div>', classes, content
    )
