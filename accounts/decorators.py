from __future__ import annotations

import functools

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest


def account_admin_required(view):
    """Only an Account Admin of a team; anyone else gets the 403 page. Goes under
    ``login_required``."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not request.user.is_account_admin:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped
