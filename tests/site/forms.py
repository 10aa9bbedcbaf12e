"""Every form of the product a page renders field by field, and how to make one: the form
markup tests (the Python-written widgets, the {% field %} tag) go through all of them."""

from __future__ import annotations

from accounts.forms import AddMemberForm, LoginForm, NewPasswordForm, PasswordResetForm
from accounts.sso.forms import ConnectionForm, DomainForm, SSOEmailForm
from security.export.forms import SecurityLogExportForm
from security.forms import (
    ReauthForm,
    RecoveryCodeForm,
    RequirementScheduleForm,
    SecondFactorCodeForm,
)
from security.passkeys.forms import PasskeyAddForm, PasskeyNameForm

PRODUCT_FORMS = [
    LoginForm,
    PasswordResetForm,
    AddMemberForm,
    NewPasswordForm,
    SSOEmailForm,
    ConnectionForm,
    DomainForm,
    SecondFactorCodeForm,
    RecoveryCodeForm,
    ReauthForm,
    RequirementScheduleForm,
    SecurityLogExportForm,
    PasskeyNameForm,
    PasskeyAddForm,
]


def form_kwargs(form_class, admin) -> dict:
    """What ``form_class`` needs besides its data, for the Account Admin ``admin``."""
    if form_class is NewPasswordForm:
        return {"user": admin}
    if form_class is SecurityLogExportForm:
        return {"account": admin.account}
    return {}
