"""The {% field %} tag (twofactor_site/templatetags/fields.py) writes, for every form of the
product, unbound and with errors, with and without a page's own help, the markup of the
included template it replaced (kept here as it was), hostile values escaped."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.template import Context, Template

from accounts.forms import LoginForm
from tests.site.forms import PRODUCT_FORMS, form_kwargs

HOSTILE = '"><script>alert(1)</script>&amp; \' é'

# templates/_field.html, as it was until the tag replaced it.
INCLUDED = Template(
    "{% load i18n %}{# One labelled input with its help and errors. #}\n"
    '<div class="field{% if field.errors %} field-invalid{% endif %}">\n'
    '  <label for="{{ field.id_for_label }}">{{ field.label }}</label>\n'
    '  {% if help or field.help_text %}<p class="help" id="{{ field.auto_id }}_helptext">'
    "{% firstof help field.help_text %}</p>{% endif %}\n"
    "  {{ field }}\n"
    "  {% if field.errors %}\n"
    '  <p class="field-error" id="{{ field.auto_id }}_error" role="alert">'
    '{{ field.errors|join:" " }}</p>\n'
    "  {% endif %}\n"
    "</div>\n"
)
TAG = Template("{% load fields %}{% field field %}")
TAG_WITH_HELP = Template("{% load fields %}{% field field help=help %}")


@pytest.mark.parametrize("form_class", PRODUCT_FORMS)
@pytest.mark.parametrize("data", [None, "hostile", "empty"])
def test_each_field_is_written_as_the_included_template_wrote_it(form_class, data, account_admin):
    extra = form_kwargs(form_class, account_admin)
    fields = form_class(**extra).fields
    values = {"hostile": dict.fromkeys(fields, HOSTILE), "empty": {}, None: None}[data]
    form = form_class(data=values, **extra)
    if values is not None:
        form.is_valid()
    for bound in form:
        if isinstance(bound.field.widget, forms.HiddenInput):
            continue
        context = {"field": bound}
        assert TAG.render(Context(context)) == INCLUDED.render(Context(context))
        context["help"] = HOSTILE
        written = TAG_WITH_HELP.render(Context(context))
        assert written == INCLUDED.render(Context(context))
        assert "<script>" not in written


def test_errors_and_help_name_the_ids_the_input_points_at(account_admin):
    form = LoginForm(data={"email": "not an address", "password": ""})
    form.is_valid()
    written = TAG.render(Context({"field": form["email"]}))
    assert 'class="field field-invalid"' in written
    assert 'aria-invalid="true"' in written
    assert 'id="id_email_error" role="alert"' in written
    assert re.search(r'<input [^>]*aria-describedby="[^"]*\bid_email_error\b', written), written
