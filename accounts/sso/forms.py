from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import normalize_email
from accounts.sso import oidc
from accounts.sso.services import SSOError, domain_normalize


class SSOEmailForm(forms.Form):
    email = forms.EmailField(
        label=_("Work email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )

    def clean_email(self) -> str:
        return normalize_email(self.cleaned_data["email"])


class ConnectionForm(forms.Form):
    issuer = forms.CharField(
        label=_("Issuer URL"),
        max_length=500,
        help_text=_("Your provider's OpenID Connect issuer, such as https://acme.okta.com."),
        widget=forms.TextInput(
            attrs={"inputmode": "url", "spellcheck": "false", "autocapitalize": "off"}
        ),
    )
    client_id = forms.CharField(label=_("Client ID"), max_length=255)
    client_secret = forms.CharField(
        label=_("Client secret"),
        max_length=2000,
        required=False,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}, render_value=False),
    )
    enabled = forms.BooleanField(label=_("Single sign-on is on"), required=False)
    jit_provisioning = forms.BooleanField(
        label=_("Add people at their first sign-in"),
        required=False,
        help_text=_(
            "Anyone your provider signs in with an address of a verified domain becomes a "
            "member. Off: only people you add can sign in."
        ),
    )

    def clean_issuer(self) -> str:
        issuer = self.cleaned_data["issuer"].strip()
        problem = oidc.issuer_problem(issuer)
        if problem:
            raise forms.ValidationError(problem)
        return issuer

    def clean_client_id(self) -> str:
        return self.cleaned_data["client_id"].strip()


class DomainForm(forms.Form):
    domain = forms.CharField(
        label=_("Email domain"),
        max_length=253,
        widget=forms.TextInput(
            attrs={"placeholder": "example.com", "spellcheck": "false", "autocapitalize": "off"}
        ),
    )

    def clean_domain(self) -> str:
        try:
            return domain_normalize(self.cleaned_data["domain"])
        except SSOError as error:
            raise forms.ValidationError(str(error)) from None
