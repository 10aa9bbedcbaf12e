"""The forms of passkeys: they only validate; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from security.passkeys.ceremony import ANSWER_MAX_CHARS
from security.passkeys.models import NAME_MAX
from twofactor_site.text import refuse_control_characters

# What passkeys.js posts in ``error`` when the browser gave no answer (the DOMException's
# name, or "unsupported" without WebAuthn): each gets its own sentence on the page.
BROWSER_ERRORS = {
    "NotAllowedError": _(
        "The passkey wasn't used: the request was cancelled, or it timed out. Try again when "
        "your key is at hand."
    ),
    "AbortError": _("The request was cancelled. Try again."),
    "InvalidStateError": _("That passkey or security key is already registered to your account."),
    "NotSupportedError": _("This browser or key can't make a passkey this site accepts."),
    "SecurityError": _(
        "Your browser refused: open this site at its own address, over https (or at "
        "http://localhost while developing)."
    ),
    "unsupported": _(
        "This browser doesn't support passkeys or security keys. Use an up-to-date Chrome, "
        "Edge, Firefox or Safari."
    ),
}
BROWSER_ERROR_OTHER = _("Your browser couldn't use a passkey. Try again.")


class PasskeyAnswerForm(forms.Form):
    """What passkeys.js posts: the browser's answer as JSON, or the name of its error."""

    answer = forms.CharField(required=False, max_length=ANSWER_MAX_CHARS, widget=forms.HiddenInput)
    error = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if not self.errors and not data.get("answer") and not data.get("error"):
            raise forms.ValidationError(
                _(
                    "Your browser sent no answer. Use the button on this page (it needs JavaScript)."
                ),
                code="empty",
            )
        return data

    def browser_error(self) -> str | None:
        """The sentence for the browser's error, when it gave one instead of an answer."""
        name = self.cleaned_data.get("error") if self.is_valid() else None
        if not name or self.cleaned_data.get("answer"):
            return None
        return str(BROWSER_ERRORS.get(name, BROWSER_ERROR_OTHER))


class PasskeyNameForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=NAME_MAX,
        validators=[refuse_control_characters],
        help_text=_(
            "So you can tell your keys apart: \u201cWork laptop\u201d, \u201cYubiKey\u201d."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class PasskeyAddForm(PasskeyNameForm, PasskeyAnswerForm):
    """Name the key and register it, in one post."""
