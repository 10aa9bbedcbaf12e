"""Forgot password, on Django's views. A reset never signs anyone in: it ends at /login/,
whose second step still has to be passed."""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django_ratelimit.decorators import ratelimit

from accounts.forms import PasswordResetForm
from accounts.ratelimits import post_email_key, rate
from security.events import Kind, event_record
from twofactor_site.net import client_ip_key
from twofactor_site.views import StrictFormViewMixin

logger = logging.getLogger("twofactor.email")


class _PasswordResetForm(PasswordResetForm):
    def send_mail(self, *args, **kwargs) -> None:
        """A mail server that is down must not turn into a 500, nor answer differently for
        known addresses (only they get mail): log it and answer as always."""
        try:
            super().send_mail(*args, **kwargs)
        except (smtplib.SMTPException, OSError) as exc:
            logger.warning("email password-reset could not be sent: %s", type(exc).__name__)


@method_decorator(
    ratelimit(group="reset-ip", key=client_ip_key, rate=rate("RATELIMIT_RESET_IP"), method="POST"),
    name="post",
)
@method_decorator(
    ratelimit(
        group="reset-email", key=post_email_key, rate=rate("RATELIMIT_RESET_EMAIL"), method="POST"
    ),
    name="post",
)
class PasswordResetView(StrictFormViewMixin, auth_views.PasswordResetView):
    """Answers the same for unknown, known and SSO addresses; only password members get mail
    (see accounts.forms.PasswordResetForm). Links are built from SITE_URL."""

    template_name = "accounts/password_reset.html"
    form_class = _PasswordResetForm
    email_template_name = "emails/password-reset-body.txt"
    html_email_template_name = "emails/password-reset-body.html"
    subject_template_name = "emails/password-reset-subject.txt"
    success_url = reverse_lazy("accounts:password-reset-done")

    def form_valid(self, form):
        self.extra_email_context = {"site_url": settings.SITE_URL, "site_name": settings.SITE_NAME}
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(StrictFormViewMixin, auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")
    post_reset_login = False

    def form_valid(self, form):
        response = super().form_valid(form)
        event_record(
            kind=Kind.PASSWORD_RESET, request=self.request, user=form.user, actor=form.user
        )
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
