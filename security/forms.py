"""The forms of the second factor: they only validate; the services decide."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from datetime import timezone as dt_timezone

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from security.policy import GRACE_DAYS_MAX, REQUIREMENT_FROM_MAX_DAYS
from security.recovery_codes import codes as recovery_codes
from security.totp import codes as totp
from twofactor_site.numbers import AsciiDateField, AsciiIntegerField
from twofactor_site.password_fields import password_field


def _one_value(form: forms.Form, name: str) -> None:
    getlist = getattr(form.data, "getlist", None)
    if getlist is not None and len(getlist(form.add_prefix(name))) > 1:
        # Two values for one field: refuse rather than silently try the last one.
        raise forms.ValidationError(_("Enter one code."), code="multiple")


class SecondFactorCodeForm(forms.Form):
    """The 6-digit code of an authenticator app (recovery codes have their own form: letters
    need a text keyboard, this field opens the digit keypad on a phone)."""

    code = forms.CharField(
        label=_("Authentication code"),
        max_length=64,
        help_text=_("The 6-digit code your authenticator app shows now."),
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

    def __init__(self, *args, recovery_code_hint: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.recovery_code_hint = recovery_code_hint  # at sign-in, where they have a page

    def clean_code(self) -> str:
        raw = self.cleaned_data["code"]
        _one_value(self, "code")
        if totp.normalize_code(raw) is None:
            if self.recovery_code_hint and recovery_codes.normalize(raw) is not None:
                raise forms.ValidationError(
                    _(
                        "That looks like a recovery code. Choose \u201cUse a recovery code "
                        "instead\u201d below to enter it."
                    ),
                    code="recovery_code",
                )
            raise forms.ValidationError(
                _("Enter the 6-digit code from your app (digits 0-9 only)."), code="format"
            )
        return raw


class RecoveryCodeForm(forms.Form):
    """One of the member's recovery codes: letters and digits, so a text keyboard."""

    recovery_code = forms.CharField(
        label=_("Recovery code"),
        max_length=64,
        help_text=_(
            "One of the codes you saved when you set up two-factor authentication, "
            "like abcde-12345. Each works once."
        ),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "autofocus": True,
                "autocapitalize": "off",
                "autocorrect": "off",
                "spellcheck": "false",
            }
        ),
    )

    def clean_recovery_code(self) -> str:
        raw = self.cleaned_data["recovery_code"]
        _one_value(self, "recovery_code")
        if recovery_codes.normalize(raw) is None:
            raise forms.ValidationError(
                _("Enter a recovery code: 10 letters and digits, like abcde-12345."),
                code="format",
            )
        return raw


class ReauthForm(forms.Form):
    """Prove it is you again: your password or a current code from your app."""

    secret = password_field(
        _("Password or authentication code"), autocomplete="current-password", autofocus=True
    )


class RequirementScheduleForm(forms.Form):
    """When the team requirement starts and how long members added later have to set up.
    ``start`` left out keeps what is set (a change of what the requirement accepts)."""

    NOW, FROM_DATE = "now", "date"

    start = forms.ChoiceField(
        label=_("Starts"),
        choices=[(NOW, _("Now")), (FROM_DATE, _("From a date"))],
        required=False,
        widget=forms.RadioSelect,
    )
    from_date = AsciiDateField(
        label=_("Starting on (UTC)"),
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date as YYYY-MM-DD.")},
    )
    grace_days = AsciiIntegerField(
        label=_("Members added later get (days)"),
        help_text=_("0 to 14 days from when they join to set up. 0: from their first sign-in."),
        min_value=0,
        max_value=GRACE_DAYS_MAX,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "invalid": _("Enter a whole number of days, 0 to 14."),
            "min_value": _("Enter a whole number of days, 0 to 14."),
            "max_value": _("Enter a whole number of days, 0 to 14."),
        },
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.now().date()
        latest = today + timedelta(days=REQUIREMENT_FROM_MAX_DAYS)
        self.fields["from_date"].widget.attrs.update(min=today.isoformat(), max=latest.isoformat())

    def clean(self) -> dict:
        data = super().clean()
        if data.get("start") != self.FROM_DATE:
            return data
        day = data.get("from_date")
        today = timezone.now().date()
        latest = today + timedelta(days=REQUIREMENT_FROM_MAX_DAYS)
        if day is None:
            if "from_date" not in self.errors:
                self.add_error("from_date", _("Choose the date the requirement starts."))
        elif day < today:
            self.add_error("from_date", _("That date has passed: choose today or a later day."))
        elif day > latest:
            message = _("Choose a date at most 90 days ahead (%(latest)s or earlier).")
            self.add_error("from_date", message % {"latest": latest.isoformat()})
        return data

    def starts_at(self) -> datetime | None:
        """From when, for security.policy.requirement_set: the start of the chosen day
        (UTC), now, or None to keep what is set. Only after ``is_valid``."""
        start = self.cleaned_data.get("start")
        if start == self.NOW:
            return timezone.now()
        if start == self.FROM_DATE:
            return datetime.combine(
                self.cleaned_data["from_date"], time.min, tzinfo=dt_timezone.utc
            )
        return None

    def query(self) -> dict[str, str]:
        """The valid choices as the confirmation page carries them to its button."""
        data = self.cleaned_data
        fields = {"start": data.get("start") or ""}
        if data.get("start") == self.FROM_DATE:
            fields["from_date"] = data["from_date"].isoformat()
        if data.get("grace_days") is not None:
            fields["grace_days"] = str(data["grace_days"])
        return {name: value for name, value in fields.items() if value}
