from __future__ import annotations

from collections.abc import Iterator

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _

from accounts.models import TRUST_DAYS_MAX, User, normalize_email
from twofactor_site.numbers import AsciiIntegerField
from twofactor_site.password_fields import password_field
from twofactor_site.text import refuse_control_characters


class LoginForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = password_field(_("Password"), autocomplete="current-password")

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
    name = forms.CharField(
        label=_("Name"), max_length=150, required=False, validators=[refuse_control_characters]
    )
    admin = forms.BooleanField(label=_("Account Admin"), required=False)
    sso = forms.BooleanField(
        label=_("Signs in with single sign-on"),
        required=False,
        help_text=_("Their identity provider handles their sign-in security."),
    )

    def clean_email(self) -> str:
        return normalize_email(self.cleaned_data["email"])


def password_rules() -> str:
    """The password rules in one sentence, from the validators in force (once, under the
    field, instead of Django's list repeated under both fields)."""
    length = next(
        (
            validator.min_length
            for validator in password_validation.get_default_password_validators()
            if isinstance(validator, password_validation.MinimumLengthValidator)
        ),
        None,
    )
    rules = _("not all digits, not a common password, and not like your email address.")
    if length:
        return _("At least %(n)d characters, %(rules)s") % {"n": length, "rules": rules}
    return _("Not all digits, not a common password, and not like your email address.")


class NewPasswordForm(auth_forms.SetPasswordForm):
    """A password set from an emailed link (an invitation, a reset): each error on the field
    it is about (Django puts the rules' errors on the confirmation); the rules said once,
    under the first field."""

    new_password1 = password_field(_("Password"), autocomplete="new-password", autofocus=True)
    new_password2 = password_field(_("Confirm password"), autocomplete="new-password")
    error_messages = {
        **auth_forms.SetPasswordForm.error_messages,
        "password_mismatch": _("This doesn't match the password above. Type it again."),
    }

    def __init__(self, user, *args, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.fields["new_password1"].help_text = password_rules()

    def clean(self):
        self.validate_passwords("new_password1", "new_password2")
        self.validate_password_for_user(self.user, "new_password1")
        return forms.Form.clean(self)


class TrustSettingsForm(forms.Form):
    """The Security page's trusted-browser option: offered or not, and for how many days."""

    offer = forms.BooleanField(
        label=_("Let members trust a browser at the second step"), required=False
    )
    days = AsciiIntegerField(
        label=_("Days a browser stays trusted"), min_value=1, max_value=TRUST_DAYS_MAX
    )
