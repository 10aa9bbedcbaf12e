"""Where you're signed in: a member signs out one of their sessions or every other one; an
Account Admin signs a member of their team out everywhere (accounts.user_sessions)."""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import team_member_page
from accounts.models import User
from accounts.presence import session_reattach
from accounts.user_sessions import member_sessions_end, other_sessions_end, session_end_one
from accounts.views import logout_view
from security.decorators import recent_auth_required
from security.events import Audit
from twofactor_site.sessions import SESSION_ID_SESSION_KEY

# Ending another session asks for a recent proof: a copied session cookie alone must not sign
# its owner out of their own browsers (and stay signed in itself). Signing out this browser
# is an ordinary sign-out, asked nothing.
_proof_first = recent_auth_required(back_to="security:personal")


def _this_browser_signs_out(view):
    @functools.wraps(view)
    def wrapped(request: HttpRequest, session_id: str) -> HttpResponse:
        if session_id == request.session.get(SESSION_ID_SESSION_KEY):
            return logout_view(request)
        return view(request, session_id)

    return wrapped


@require_POST
@login_required
@_this_browser_signs_out
@_proof_first
def session_end(request: HttpRequest, session_id: str) -> HttpResponse:
    """Sign out one of my sessions, named by its id (never its key); another member's id, an
    ended one or a made-up one is a 404."""
    if not session_end_one(audit=Audit.of(request), user=request.user, session_id=session_id):
        raise Http404
    messages.success(request, _("That session is signed out."))
    return redirect("security:personal")


@require_POST
@login_required
@_proof_first
def sessions_end_others(request: HttpRequest) -> HttpResponse:
    other_sessions_end(audit=Audit.of(request), user=request.user)
    if not session_reattach(request):
        return redirect("accounts:login")
    messages.success(request, _("You're signed out everywhere else."))
    return redirect("security:personal")


@team_member_page
def member_sessions_end_view(request: HttpRequest, member: User) -> HttpResponse:
    """An Account Admin signs a member of their own team out everywhere (after a lost laptop,
    say); asked first on a page of its own."""
    if request.method == "POST":
        member_sessions_end(audit=Audit.of(request), member=member, by=request.user)
        if member.pk == request.user.pk:
            return redirect("accounts:login")
        text = _("%(email)s is signed out everywhere.") % {"email": member.email}
        messages.success(request, text)
        return redirect("accounts:team")
    return render(request, "team/sessions_end.html", {"member": member, "nav": "team"})
