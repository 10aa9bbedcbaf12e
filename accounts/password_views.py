"""Forgot password, on Django's views. A reset never signs anyone in: it ends at /login/,
whose second step still has to be passed."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.urls import get_script_prefix, reverse_lazy
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.translation import ngettext

from accounts.forms import NewPasswordForm, PasswordResetForm
from accounts.passwords import password_change_describe
from accounts.tasks import password_reset_request
from accounts.tokens import password_reset_tokens
from security.encryption import encrypt
from security.events import Audit, Kind
from twofactor_site.mail import email_send_later
from twofactor_site.ratelimits import client_ip_key, post_email_key, rate, ratelimit
from twofactor_site.views import StrictFormViewMixin


class _PasswordResetForm(PasswordResetForm):
    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict,
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        """In the worker (``password_reset_emails_send``): queue emails/password-reset-*."""
        email_send_later(to=[to_email], name="password-reset", context=context)


def password_reset_emails_send(*, address: str) -> None:
    """What Django's reset view does with a valid form, done by the mail worker: email a
    reset link to each password member with this address (none for an unknown one)."""
    form = _PasswordResetForm({"email": address})
    if not form.is_valid():
        return
    site = urlsplit(settings.SITE_URL)
    form.save(
        domain_override=site.netloc,
        use_https=site.scheme == "https",
        token_generator=password_reset_tokens,
        extra_email_context={"site_url": settings.SITE_URL, "site_name": settings.SITE_NAME},
    )


def reset_link_note(request) -> str:
    """For the 429 page of a refused reset: the same words for every address (whether one was
    sent is nobody's business), and true whenever one was."""
    hours = max(1, settings.PASSWORD_RESET_TIMEOUT // 3600)
    return ngettext(
        "If we emailed you a reset link in the last hour, it still works.",
        "If we emailed you a reset link in the last %(n)d hours, it still works.",
        hours,
    ) % {"n": hours}


def _reset_limit(group: str, key, setting: str):
    """A limit on the reset form's POST, refused with the same words about a link sent."""
    limit = ratelimit(group=group, key=key, rate=rate(setting), method="POST", note=reset_link_note)
    return method_decorator(limit, name="post")


@_reset_limit("reset-ip", client_ip_key, "RATELIMIT_RESET_IP")
@_reset_limit("reset-email", post_email_key, "RATELIMIT_RESET_EMAIL")
class PasswordResetView(StrictFormViewMixin, auth_views.PasswordResetView):
    """Answers the same for unknown, known and SSO addresses; only password members get mail
    (see accounts.forms.PasswordResetForm). Links are built from SITE_URL."""

    template_name = "accounts/password_reset.html"
    form_class = _PasswordResetForm
    success_url = reverse_lazy("accounts:password-reset-done")
    token_generator = password_reset_tokens

    def form_valid(self, form):
        """The same work for every address: one task, sealed, that the worker looks up. Only
        known addresses get mail, so the answer must neither wait for the mail server, nor
        render the email, nor even look the address up: each would tell them apart by its
        timing (bench/mail.py measures both)."""
        password_reset_request.enqueue(
            encrypt(form.cleaned_data["email"]),
            get_script_prefix(),
            translation.get_language() or "",
        )
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordSetView(StrictFormViewMixin, auth_views.PasswordResetConfirmView):
    """A password set from an emailed token (a reset link, an invitation). Saving it ends
    sessions, links and pending logins, logs and emails (accounts.passwords); the view says
    which kind of change it was, by whoever held the link (``change_kind``)."""

    form_class = NewPasswordForm
    post_reset_login = False
    change_kind: str

    def form_valid(self, form):
        password_change_describe(form.user, kind=self.change_kind, audit=Audit.of(self.request))
        return super().form_valid(form)


class PasswordResetConfirmView(PasswordSetView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")
    token_generator = password_reset_tokens
    change_kind = Kind.PASSWORD_RESET


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
