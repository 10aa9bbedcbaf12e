"""Trusted browsers in settings: the member's list and "Stop trusting", an Account Admin
ending every trust of a member, and the team's option on the Security page. The trusts
themselves are accounts.trusted_browsers'."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import account_admin_required, team_member_page
from accounts.forms import TrustSettingsForm
from accounts.models import User
from accounts.trusted_browsers import member_trust_end, trust_settings_set, trusted_browser_stop
from security.decorators import recent_auth_required
from security.events import Audit


@require_POST
@login_required
def trusted_browser_stop_view(request: HttpRequest, browser_id: int) -> HttpResponse:
    """ "Stop trusting" in personal settings: that browser is asked the second step again."""
    response = redirect("security:personal")
    if trusted_browser_stop(request, response, user=request.user, browser_id=browser_id):
        messages.success(request, _("That browser is no longer trusted."))
    return response


@team_member_page
def member_trust_end_view(request: HttpRequest, member: User) -> HttpResponse:
    """Team Members: end every trusted browser of a member (asked first on its own page)."""
    if request.method == "POST":
        ended = member_trust_end(audit=Audit.of(request), member=member, by=request.user)
        text = (
            _("%(email)s is asked the second step again in every browser.")
            if ended
            else _("%(email)s had no trusted browsers.")
        )
        messages.success(request, text % {"email": member.email})
        return redirect("accounts:team")
    return render(request, "team/trust_end.html", {"member": member, "nav": "team"})


@require_POST
@login_required
@account_admin_required
@recent_auth_required  # it changes how every member of the team signs in
def trust_settings(request: HttpRequest) -> HttpResponse:
    """The Security page's trusted-browser option."""
    form = TrustSettingsForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose between 1 and 30 days."))
        return redirect("security:security")
    offer, days = form.cleaned_data["offer"], form.cleaned_data["days"]
    account = request.user.account
    if trust_settings_set(
        audit=Audit.of(request), account=account, admin=request.user, offer=offer, days=days
    ):
        text = (
            _("Members may trust a browser for %(days)d days.") % {"days": days}
            if offer
            else _("Members can no longer trust a browser; every trust of the team ended.")
        )
        messages.success(request, text)
    return redirect("security:security")
