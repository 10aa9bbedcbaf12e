"""Guards of the second-factor settings pages. Each goes under ``login_required``."""

from __future__ import annotations

import functools

from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from accounts.presence import presence_is_recent
from security.totp.services import active_device, enrollment_device


def recent_auth_required(view):
    """Seeing codes or removing the app needs proof of presence within the last
    TWOFACTOR_REAUTH_MINUTES (a fresh sign-in counts)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not presence_is_recent(request):
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('security:reauth')}?{query}")
        return view(request, *args, **kwargs)

    return wrapped


def enrolling(view):
    """The member has an enrollment in progress (started by ``security:enroll``); the view
    gets it as ``request.enrollment_device``."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        device = enrollment_device(user=request.user)
        if device is None:
            return redirect("security:enroll")
        request.enrollment_device = device
        return view(request, *args, **kwargs)

    return wrapped


def active_app_required(view):
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if active_device(request.user) is None:
            return redirect("security:personal")
        return view(request, *args, **kwargs)

    return wrapped
