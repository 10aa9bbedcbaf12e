"""twofactor_site.form_renderer: the <input> widgets written in Python are the markup Django's
widget templates write, byte for byte, for every form of ours and for values that need
escaping; other widgets still go through the templates."""

from __future__ import annotations

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe

from tests.site.forms import PRODUCT_FORMS, form_kwargs
from twofactor_site.form_renderer import FormRenderer

HOSTILE = '"><script>alert(1)</script>&amp; \' é'

TEMPLATES = DjangoTemplates()
PYTHON = FormRenderer()


def widgets_of(form: forms.Form) -> list[str]:
    return [str(bound) for bound in form]


def render_both(form_class, **kwargs) -> tuple[list[str], list[str]]:
    return (
        widgets_of(form_class(renderer=TEMPLATES, **kwargs)),
        widgets_of(form_class(renderer=PYTHON, **kwargs)),
    )


@pytest.mark.parametrize("form_class", PRODUCT_FORMS)
def test_our_forms_render_the_same_unbound_and_bound_with_hostile_values(
    form_class, account_admin
):
    extra = form_kwargs(form_class, account_admin)
    unbound_templates, unbound_python = render_both(form_class, **extra)
    assert unbound_python == unbound_templates

    data = {name: HOSTILE for name in form_class(**extra).fields}
    bound_templates, bound_python = render_both(form_class, data=data, **extra)
    assert bound_python == bound_templates
    assert all("<script>" not in html for html in bound_python)


class Everything(forms.Form):
    text = forms.CharField(
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "disabled": False,
                "data-x": HOSTILE,
                "data-safe": mark_safe("<b>"),
                "maxlength": 12,
                HOSTILE: "name",
            }
        )
    )
    number = forms.IntegerField(initial=7)
    hidden = forms.CharField(widget=forms.HiddenInput, initial=mark_safe("a&b"))
    url = forms.URLField(required=False, assume_scheme="https")
    password = forms.CharField(widget=forms.PasswordInput(render_value=True))
    choice = forms.ChoiceField(choices=[("a", "A"), ("b", HOSTILE)])
    flag = forms.BooleanField(required=False)
    many = forms.MultipleChoiceField(choices=[("x", "X")], widget=forms.MultipleHiddenInput)


@pytest.mark.parametrize("data", [None, {"text": HOSTILE, "number": "x", "password": HOSTILE}])
def test_every_kind_of_widget_renders_the_same(data):
    templates, python = render_both(Everything, data=data, initial={"many": ["x"]})
    assert python == templates


def test_an_input_attribute_that_is_false_is_left_out_and_true_is_bare():
    html = str(Everything(renderer=PYTHON)["text"])
    assert " autofocus" in html and 'autofocus="' not in html
    assert "disabled" not in html
    assert 'data-x="&quot;&gt;&lt;script&gt;' in html
