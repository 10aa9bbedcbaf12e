"""Guards of the second-factor settings pages. Each goes under ``login_required``."""

from __future__ import annotations

import functools

from django.contrib import messages
from django.http import HttpRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts.presence import presence_is_recent
from security.totp.services import active_device, enrollment_device

# Setting up the app is one change in several steps (codes, the app, a code): started behind a
# fresh proof (security:enroll), its steps pass for one more re-auth window.
TOTP_ENROLLMENT_FLOW = "totp-enrollment"


def recent_auth_required(
    view=None, *, flow: str | None = None, methods=None, back_to: str | None = None
):
    """THE guard of every view that changes how a member signs in (ASVS 5.0 7.5.x): adding,
    replacing or removing any factor, every step of setting one up, seeing recovery codes,
    the team's requirement. A session cookie is not a proof (whoever copied it an hour ago
    has it too); a sign-in is, and so are the password or a current code on the confirm page
    (security:reauth). Older than TWOFACTOR_REAUTH_MINUTES: the confirm page first, then back.

    ``@recent_auth_required``                  every request
    ``@recent_auth_required(methods={"POST"})`` only those methods (a page that shows a form)
    ``@recent_auth_required(flow="...")``      or a step of that multi-step change, started
                                               under a proof (accounts.presence.presence_carry)
    ``@recent_auth_required(back_to="...")``   a view that answers POSTs only: after the proof,
                                               back to that page (URL name), to do it again

    Goes under ``login_required``. Every factor's views use it (passkeys too): no other."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            guarded = methods is None or request.method in methods
            if guarded and not presence_is_recent(request, flow=flow):
                if back_to is None:
                    query = urlencode({"next": request.get_full_path()})
                else:  # the form is filled in again: a GET of this URL would be a 405
                    messages.info(request, _("Confirm it's you, then make the change again."))
                    query = urlencode({"next": reverse(back_to)})
                return redirect(f"{reverse('security:reauth')}?{query}")
            return view(request, *args, **kwargs)

        wrapped.recent_auth_required = True  # tests find every guarded view by this mark
        return wrapped

    return decorator(view) if view is not None else decorator


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
