from __future__ import annotations

from collections.abc import Iterator

from django import forms
from django.contrib.auth import forms as auth_forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User, normalize_email


class LoginForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=1024,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean_email(self) -> str:
        return normalize_email(self.cleaned_data["email"])


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form, for the members who sign in with a password here: also those who
    have none yet (an account made without one, an invitation that lapsed). Django skips
    them; SSO members never get a link, their identity provider owns their password."""

    def get_users(self, email: str) -> Iterator[User]:
        return iter(
            User.objects.filter(
                email=normalize_email(email), is_active=True, identity=User.Identity.PASSWORD
            )
        )


class AddMemberForm(forms.Form):
    email = forms.EmailField(label=_("Email"), max_length=254)
    name = forms.CharField(label=_("Name"), max_length=150, required=False)
    admin = forms.BooleanField(label=_("Account Admin"), required=False)
    sso = forms.BooleanField(
        label=_("Signs in with single sign-on"),
        required=False,
        help_text=_("Their identity provider handles their sign-in security."),
    )

    def clean_email(self) -> str:
        return normalize_email(self.cleaned_data["email"])
