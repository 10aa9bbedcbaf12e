from __future__ import annotations

from collections.abc import Iterator

from django import forms
from django.contrib.auth import forms as auth_forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User, normalize_email
from security import recovery_codes, totp


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


class SecondFactorCodeForm(forms.Form):
    """One field for a 6-digit code or a recovery code; the service decides which."""

    code = forms.CharField(
        label=_("Authentication code"),
        max_length=64,
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "autocapitalize": "off",
                "spellcheck": "false",
            }
        ),
    )

    def clean_code(self) -> str:
        raw = self.cleaned_data["code"]
        getlist = getattr(self.data, "getlist", None)
        if getlist is not None and len(getlist(self.add_prefix("code"))) > 1:
            # Two values for one field: refuse rather than silently try the last one.
            raise forms.ValidationError(_("Enter one code."), code="multiple")
        if totp.normalize_code(raw) is None and recovery_codes.normalize(raw) is None:
            raise forms.ValidationError(
                _("Enter the 6-digit code from your app (digits 0-9 only), or a recovery code."),
                code="format",
            )
        return raw


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


class ReauthForm(forms.Form):
    """Prove it is you again: your password or a current code from your app."""

    secret = forms.CharField(
        label=_("Password or authentication code"),
        max_length=1024,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
