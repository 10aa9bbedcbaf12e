"""The export's filters: they only validate. Every bad value is a clear message, never a 500."""

from __future__ import annotations

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import normalize_email
from security.export.log import team_has_address
from security.models import SecurityEvent
from twofactor_site.numbers import AsciiDateField

FORMATS = (("csv", _("CSV (spreadsheets)")), ("jsonl", _("JSON Lines (one event per line)")))

# No log is older than this product; anything earlier (or later than tomorrow) is a typo, and
# would otherwise reach date arithmetic that overflows (9999-12-31 plus a day).
EARLIEST = datetime.date(2000, 1, 1)

_DATE_ERRORS = {"invalid": _("Enter a date as YYYY-MM-DD, for example 2026-01-31.")}


def _date_field(label) -> AsciiDateField:
    return AsciiDateField(
        label=label,
        required=False,
        input_formats=["%Y-%m-%d"],  # one spelling: no locale guesses between 01/02 and 02/01
        error_messages=_DATE_ERRORS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


class SecurityLogExportForm(forms.Form):
    """Which events of ``account``'s log to export, and how. Dates are whole UTC days, both
    included; empty means from the first event, or up to now."""

    start = _date_field(_("From (UTC)"))
    end = _date_field(_("To (UTC)"))
    member = forms.CharField(
        label=_("Member"),
        required=False,
        max_length=254,
        help_text=_("An email address: what happened to them and what they did. Empty: everyone."),
        widget=forms.TextInput(attrs={"type": "email", "list": "export-members"}),
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("Every kind")), *SecurityEvent.Kind.choices],
        error_messages={"invalid_choice": _("Choose a kind from the list.")},
    )
    format = forms.ChoiceField(
        label=_("Format"),
        choices=FORMATS,
        initial="csv",
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose CSV or JSON Lines."),
            "invalid_choice": _("Choose CSV or JSON Lines."),
        },
    )

    def __init__(self, *args, account, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.account = account

    def clean(self) -> dict:
        cleaned = super().clean()
        getlist = getattr(self.data, "getlist", None)
        for name in self.fields:
            if getlist is not None and len(getlist(name)) > 1:
                # Two values for one filter: refuse rather than silently keep the last one.
                self.add_error(name, _("Give one value."))
        latest = timezone.now().date() + datetime.timedelta(days=1)  # tomorrow, in UTC
        for name in ("start", "end"):
            day = cleaned.get(name)
            if day is not None and not EARLIEST <= day <= latest:
                self.add_error(
                    name,
                    _("Enter a date from %(earliest)s to %(latest)s.")
                    % {"earliest": EARLIEST.isoformat(), "latest": latest.isoformat()},
                )
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", _("The end date is before the start date."))
        return cleaned

    def clean_member(self) -> str:
        email = normalize_email(self.cleaned_data["member"])
        if email and not team_has_address(account_id=self.account.pk, email=email):
            # The same answer for another team's member as for an address nobody has.
            raise forms.ValidationError(
                _("Nobody in your team's log has that email address."), code="unknown"
            )
        return email

    def window(self) -> tuple[datetime.datetime | None, datetime.datetime]:
        """The chosen days as [since, until) in UTC; ``until`` is never later than now, so an
        export made now never includes itself or what is logged while it downloads."""
        now = timezone.now()
        start, end = self.cleaned_data["start"], self.cleaned_data["end"]
        since = _midnight(start) if start else None
        until = min(now, _midnight(end + datetime.timedelta(days=1))) if end else now
        return since, until


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.timezone.utc)
