"""The Team Members page: who is on the team and how they sign in; admins add and remove."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import stages
from accounts.decorators import account_admin_required
from accounts.forms import AddMemberForm
from accounts.models import User
from accounts.password_views import PasswordSetView
from accounts.services import MemberError, member_invite, member_remove
from accounts.tokens import invitation_tokens
from security.events import Audit, Kind
from security.policy import member_deadline
from twofactor_site.ratelimits import rate, ratelimit, user_key


def _team_page(request: HttpRequest, form: AddMemberForm, status: int = 200) -> HttpResponse:
    account = request.user.account
    members = stages.with_factors(account.members.filter(is_active=True))
    rows, now = [], timezone.now()
    for member in members:
        factors = stages.factors_of(member)
        # The requirement binds them and none of their factors is one it accepts: "due" with
        # their deadline while it is ahead (scheduled, or a newcomer's grace period), then
        # "pending" (they are sent to set-up).
        due = pending = None
        if (
            account.require_totp
            and not member.is_sso
            and not any(stages.step_accepted(step, account) for step in factors)
        ):
            deadline = member_deadline(member, account=account)
            due, pending = (deadline, False) if deadline > now else (None, True)
        rows.append((member, factors, pending, due))
    context = {"account": account, "rows": rows, "form": form, "nav": "team"}
    return render(request, "team/team.html", context, status=status)


def _member_of_a_team(request: HttpRequest) -> None:
    if request.user.account_id is None:
        raise PermissionDenied


@require_safe
@login_required
def team(request: HttpRequest) -> HttpResponse:
    """Every member with role, second factor and last sign-in. Nobody can switch another
    member's factor here: the product does not allow it."""
    _member_of_a_team(request)
    return _team_page(request, AddMemberForm())


@require_POST
@login_required
@account_admin_required
@ratelimit(group="invite", key=user_key, rate=rate("RATELIMIT_INVITE_USER"))
def member_add_view(request: HttpRequest) -> HttpResponse:
    form = AddMemberForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            member, _invitation = member_invite(
                audit=Audit.of(request),
                account=request.user.account,
                email=data["email"],
                by=request.user,
                role=User.Role.ADMIN if data["admin"] else User.Role.MEMBER,
                identity=User.Identity.SSO if data["sso"] else User.Identity.PASSWORD,
                name=data["name"],
            )
        except MemberError as error:
            form.add_error("email", str(error))
        else:
            text = _("%(email)s was added and invited by email.") % {"email": member.email}
            messages.success(request, text)
            return redirect("accounts:team")
    return _team_page(request, form, status=400)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@account_admin_required
def member_remove_view(request: HttpRequest, member_id: int) -> HttpResponse:
    member = get_object_or_404(User, pk=member_id, account=request.user.account)
    if request.method == "POST":
        removed_self = member.pk == request.user.pk
        try:
            member_remove(audit=Audit.of(request), member=member, by=request.user)
        except MemberError as error:
            messages.error(request, str(error))
            return redirect("accounts:team")
        messages.success(
            request, _("%(email)s was removed from the team.") % {"email": member.email}
        )
        if removed_self:
            return redirect("accounts:login")
        return redirect("accounts:team")
    return render(request, "team/remove.html", {"member": member, "nav": "team"})


class InviteAcceptView(PasswordSetView):
    """An invited member sets their password, and is signed in: opening the invitation in this
    browser proved the mailbox, as the emailed link of a sign-in does, so no second link is
    sent. Then on to set-up when the team requires the app (security.middleware)."""

    template_name = "team/invite_accept.html"
    success_url = reverse_lazy("accounts:invite-done")
    reset_url_token = "set-password"
    token_generator = invitation_tokens
    change_kind = Kind.PASSWORD_SET

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.validlink:
            context.update(invited=self.user, account=self.user.account)
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        return invitation_sign_in(self.request, user=form.user) or response


def invitation_sign_in(request: HttpRequest, *, user: User) -> HttpResponse | None:
    """Sign in the member who just set their password from an invitation, when the emailed
    link is their only second step (a member with an app proves it with the app: None, and
    they sign in as usual)."""
    if stages.step_for(user) is not stages.EMAIL_LINK:
        return None
    messages.success(
        request,
        _("Welcome to %(team)s! Your password is saved and you're signed in.")
        % {"team": user.account.name},
    )
    return stages.step_passed(request, user=user, method="invitation")


class InviteDoneView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
