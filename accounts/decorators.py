from __future__ import annotations

import functools

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_http_methods

from accounts.models import User
from security.decorators import recent_auth_required


def account_admin_required(view):
    """Only an Account Admin of a team; anyone else gets the 403 page. Goes under
    ``login_required``."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not request.user.is_account_admin:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def team_member_page(view):
    """An Account Admin's page about one active member of their own team, named by
    ``member_id`` in the URL: GET asks first, POST does it, after a recent sign-in. The view is
    called with the member; another team's member, an inactive or unknown one is a 404."""

    @require_http_methods(["GET", "HEAD", "POST"])
    @login_required
    @account_admin_required
    @recent_auth_required
    @functools.wraps(view)
    def wrapped(request: HttpRequest, member_id: int):
        member = get_object_or_404(User, pk=member_id, account=request.user.account, is_active=True)
        return view(request, member)

    return wrapped
