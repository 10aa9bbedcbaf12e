"""The forms of the second factor: they only validate; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from security.recovery_codes import codes as recovery_codes
from security.totp import codes as totp


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


class ReauthForm(forms.Form):
    """Prove it is you again: your password or a current code from your app."""

    secret = forms.CharField(
        label=_("Password or authentication code"),
        max_length=1024,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
