"""The one interface between the login and the second factors.

The login (accounts.login_flow) knows how a login moves: password, pending login, a second
step, signed in. It knows no particular factor. It asks this module two things: which
second steps does this member have (``step_for``, ``steps_of``), and which does their team
accept (``meets_requirement``). Each factor answers by registering a ``SecondStep`` when its
app is ready; the email link, the default step, is the login's own (``EMAIL_LINK``).

A factor's step view is guarded by ``step_required(key)`` and ends with ``step_passed``; it
never imports the login flow itself. A new factor is its own module (or package) plus one
registration line, e.g. in its AppConfig.ready::

    from django.urls import path
    from accounts import stages
    from security.passkeys import services, views

    stages.register(
        stages.SecondStep(
            key="passkey",                      # stored in the pending login
            label=_("Use a passkey instead"),   # for choice lists
            url_name="accounts:login-passkey",  # the step's page (routed under /login/)
            is_active_for=services.has_passkey,  # (user) -> bool: set up and usable
            meets_requirement=True,             # the team requirement accepts it
            urlpatterns=(path("login/passkey/", views.login_passkey, name="login-passkey"),),
            load=services.passkey_step_load,    # (user_id, request) -> StepMember | None
            order=10,                           # lower goes first when a member has several
        )
    )

and its step view::

    @stages.step_required("passkey")
    def login_passkey(request):
        member = request.step_member            # what passkey_step_load returned
        ...
        return stages.step_passed(request, user=member.user, method="passkey")

(Modelled on django-allauth's mfa/stages.py: the account app runs the stages; the MFA app
plugs into them.)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib import messages
from django.db.models import Expression, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import URLPattern
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from accounts import login_flow
from accounts.models import Account, User

if TYPE_CHECKING:
    from security.models import SecurityEvent


@dataclass(frozen=True)
class StepMember:
    """The member of a pending login as a step's view gets it. A factor whose step needs more
    (its device, a count) subclasses this and loads it all in its ``load``."""

    user: User


def member_load(user_id: int, request: HttpRequest) -> StepMember | None:
    """The default loader: the active member, by primary key."""
    user = login_flow.active_member_load(user_id)
    return StepMember(user) if user is not None else None


@dataclass(frozen=True)
class SecondStep:
    """One way to pass the second step of a login."""

    key: str  # what the pending login waits for; stored in the session
    label: str  # for choice lists: "Use your authenticator app instead"
    url_name: str  # the step's page, in the accounts namespace
    is_active_for: Callable[[User], bool]  # the member has this factor, set up and confirmed
    # Whether the team's requirement accepts it: always, never, or as the team chose.
    meets_requirement: bool | Callable[[Account], bool]
    urlpatterns: tuple[URLPattern, ...] = ()  # the step's pages, mounted by accounts/urls.py
    # The step's one explicit loader, given the pending member's id and the request: the
    # active member and what this request of the step needs with them, nothing more (a page
    # needs the member's row alone; a verification may need the factor's row too).
    load: Callable[[int, HttpRequest], StepMember | None] = member_load
    order: int = 100  # of a member's active steps, the lowest is where their login goes
    # The factor in lists (Team Members, the admin): its name ("Authenticator app") and a
    # short slug for filters and badges ("totp"). A step without a slug is not listed.
    name: str = ""
    factor: str = ""
    # For lists (Team Members, the admin): an expression over a member row (an Exists with
    # OuterRef("pk")) that is true when the member has this factor, so a list of members
    # costs one query whatever the number of factors.
    active_expression: Callable[[], Expression] | None = None
    # How the step reads in a sentence of its pages: "a code from your authenticator app".
    way: str = ""
    # A backup of the member's factors (recovery codes), not a factor of its own: offered
    # beside a factor the member has, never where a login goes first, not in lists, and no
    # requirement counts it.
    backup: bool = False


def _always(user: User) -> bool:
    return True


# The default second step, for a member without any factor: the emailed link
# (accounts/sign_in_links.py). Email is not a possession factor: no requirement accepts it.
EMAIL_LINK = SecondStep(
    key="email-link",
    label=_lazy("Use an email link instead"),
    url_name="accounts:login-email-sent",
    is_active_for=_always,
    meets_requirement=False,
    order=1000,
    name=_lazy("Email link"),
    factor="email_link",
)

_registry: dict[str, SecondStep] = {EMAIL_LINK.key: EMAIL_LINK}


def register(step: SecondStep) -> None:
    """Make ``step`` one of the login's second steps (call it from an AppConfig.ready)."""
    _registry[step.key] = step
    _members_annotated.clear()


def registered() -> list[SecondStep]:
    """Every second step, in order."""
    return sorted(_registry.values(), key=lambda step: step.order)


def step_get(key: str) -> SecondStep | None:
    return _registry.get(key)


def steps_of(user: User) -> list[SecondStep]:
    """The second steps ``user`` has, in order: their factors, or else the email link (a
    member with a factor no longer signs in by email)."""
    listed = _listed_of(user)
    factors = [
        s
        for s in registered()
        if s is not EMAIL_LINK
        and not s.backup
        and (listed[s.key] if s.key in listed else s.is_active_for(user))
    ]
    return factors or [EMAIL_LINK]


def ways_of(user: User) -> list[SecondStep]:
    """Every way ``user`` may pass the second step: their steps (``steps_of``), then the
    backups they hold (a recovery code), which only a member with a factor is offered."""
    steps = steps_of(user)
    if steps == [EMAIL_LINK]:
        return steps
    return steps + [s for s in registered() if s.backup and _has(user, s)]


def ways_here(request: HttpRequest, user: User) -> list[SecondStep]:
    """``ways_of(user)`` for a step's page, with the member's second steps as the password
    step found them: the pending login carries them, and any change to the member's factors
    since voids that login. Backups are asked of the row (``with_backups``) each time, since
    using one up changes nothing else. Only for what a page shows: a switch to another way
    asks the member again (``ways_of``)."""
    pending = getattr(request, "pending_login", None)
    keys = pending.steps if pending is not None and pending.user_id == user.pk else None
    if keys is None:
        return ways_of(user)
    steps = [s for s in registered() if s.key in keys and s is not EMAIL_LINK and not s.backup]
    if not steps:
        return [EMAIL_LINK]
    return steps + [s for s in registered() if s.backup and _has(user, s)]


def steps_carried(request: HttpRequest) -> bool:
    """This request's pending login carries the member's second steps, so a step's loader
    need annotate only the backups (``with_backups``) for ``ways_here``."""
    pending = getattr(request, "pending_login", None)
    return pending is not None and pending.steps is not None


def alternatives_of(user: User, key: str) -> list[SecondStep]:
    """The ways ``user`` may switch to from the step ``key`` ("Use a recovery code instead");
    never the email link, which a member with a factor no longer signs in by."""
    return [s for s in ways_of(user) if s.key != key and s is not EMAIL_LINK]


def _has(user: User, step: SecondStep) -> bool:
    """Whether ``user`` has ``step``: from the row's annotation (``with_steps``) when it has
    one, else asked of the step."""
    name = _annotation(step)
    return bool(getattr(user, name)) if hasattr(user, name) else step.is_active_for(user)


def _listed_of(user: User) -> dict[str, bool]:
    """Which listed factors ``user`` has, by step key: from the row's annotations when it has
    them, else in one query for all of them (not one per factor)."""
    steps = listed_factors()
    if not steps or user.pk is None:
        return {}
    if all(hasattr(user, _annotation(s)) for s in steps):
        return {s.key: bool(getattr(user, _annotation(s))) for s in steps}
    names = [_annotation(s) for s in steps]
    row = with_factors(User.objects.filter(pk=user.pk)).values_list(*names).first()
    return {s.key: bool(row[i]) if row else False for i, s in enumerate(steps)}


def step_for(user: User) -> SecondStep:
    """Where ``user``'s login goes after the password."""
    return steps_of(user)[0]


def step_accepted(step: SecondStep, account: Account | None) -> bool:
    """Whether ``account``'s requirement accepts ``step``."""
    if callable(step.meets_requirement):
        return account is not None and step.meets_requirement(account)
    return step.meets_requirement


def meets_requirement(user: User, *, account: Account | None = None) -> bool:
    """Whether ``user`` has a factor that their team's requirement accepts (as ``account``
    says when given: the member's account as it is, or as it is about to be)."""
    if account is None and user.account_id is not None:
        account = user.account
    accepted = [s for s in registered() if step_accepted(s, account)]
    if not accepted:
        return False
    listed = _listed_of(user)
    return any(listed[s.key] if s.key in listed else s.is_active_for(user) for s in accepted)


def accepted_steps(account: Account) -> list[SecondStep]:
    """The factors ``account``'s requirement accepts, in order."""
    return [s for s in registered() if s is not EMAIL_LINK and step_accepted(s, account)]


# --- Lists of members: which factors each has --------------------------------------------


def listed_factors() -> list[SecondStep]:
    """The factors lists show, in order (the email link is the absence of one)."""
    return [s for s in registered() if s.factor and s.active_expression is not None]


def _annotation(step: SecondStep) -> str:
    return f"has_factor_{step.factor or step.key.replace('-', '_')}"


def with_factors(users: QuerySet[User]) -> QuerySet[User]:
    """``users`` annotated with each factor they have, so a list needs no query per member
    (read them with ``factors_of``)."""
    return users.annotate(**{_annotation(s): s.active_expression() for s in listed_factors()})


def with_steps(users: QuerySet[User]) -> QuerySet[User]:
    """``users`` annotated with every way in they have, backups included, so a step's page
    learns the member's other ways (``alternatives_of``) in the query that loads them."""
    steps = [s for s in registered() if s.active_expression is not None]
    return users.annotate(**{_annotation(s): s.active_expression() for s in steps})


def with_backups(users: QuerySet[User]) -> QuerySet[User]:
    """``users`` annotated with the backups they hold (an unused recovery code), all that a
    step's page asks of the row when the pending login carries the steps (``ways_here``)."""
    steps = [s for s in registered() if s.backup and s.active_expression is not None]
    return users.annotate(**{_annotation(s): s.active_expression() for s in steps})


# The sign-in steps' member querysets, annotated once per process: resolving a factor's
# Exists against the member table costs more than the lookup's round trip, and the answer is
# the same for every request (the registry is complete once the apps are ready). Never
# evaluated: each caller gets a clone (``.all()``) to filter.
_members_annotated: dict[tuple[str, bool], QuerySet[User]] = {}


def _members(annotate: Callable[[QuerySet[User]], QuerySet[User]], *, team: bool):
    key = (annotate.__name__, team)
    users = _members_annotated.get(key)
    if users is None:
        base = User.objects.select_related("account") if team else User.objects.all()
        users = _members_annotated[key] = annotate(base)
    return users.all()


def members_with_steps(*, team: bool = False) -> QuerySet[User]:
    """Members annotated by ``with_steps``; with ``team``, their account joined."""
    return _members(with_steps, team=team)


def members_with_backups(*, team: bool = False) -> QuerySet[User]:
    """Members annotated by ``with_backups``; with ``team``, their account joined."""
    return _members(with_backups, team=team)


def factors_of(user: User) -> list[SecondStep]:
    """The listed factors ``user`` has, in order: from the annotations of ``with_factors``
    when the row has them, else asked of each factor."""
    return [
        s
        for s in listed_factors()
        if (
            getattr(user, _annotation(s))
            if hasattr(user, _annotation(s))
            else s.is_active_for(user)
        )
    ]


def factor_names(user: User) -> list[str]:
    """How ``user`` passes the second step, as lists say it: "Single sign-on", their factors
    ("Passkey", "Authenticator app"), or "Email link"."""
    if user.is_sso:
        return [str(_lazy("Single sign-on"))]
    return [str(s.name) for s in factors_of(user)] or [str(EMAIL_LINK.name)]


def factor_filter(users: QuerySet[User], factor: str | None) -> QuerySet[User]:
    """Of ``users`` annotated by ``with_factors``, those with the factor of slug ``factor``;
    with None, those with none (who sign in with the email link)."""
    steps = listed_factors()
    if factor is not None:
        step = next((s for s in steps if s.factor == factor), None)
        return users.filter(**{_annotation(step): True}) if step else users.none()
    return users.filter(**{_annotation(s): False for s in steps})


def step_urlpatterns() -> list[URLPattern]:
    """The pages of every registered step (accounts/urls.py mounts them)."""
    return [pattern for step in registered() for pattern in step.urlpatterns]


def step_url_names() -> frozenset[str]:
    """The URL names of every step's pages: what a pending login may open."""
    return frozenset(
        f"accounts:{pattern.name}" for pattern in step_urlpatterns() if pattern.name
    ) | {s.url_name for s in registered()}


def step_url_name(pending: login_flow.PendingLogin) -> str:
    """The page of the step ``pending`` waits for."""
    step = step_get(pending.stage) or EMAIL_LINK
    return step.url_name


def step_required(key: str):
    """Guard a second-step view: the browser must hold an unexpired pending login waiting for
    step ``key``. The view gets ``request.pending_login``, ``request.step_member`` (what the
    step's ``load`` returned) and ``request.pending_user`` (its user)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            pending = login_flow.pending_login_get(request)
            if pending is None:
                messages.info(request, _("Sign in with your email and password first."))
                return redirect("accounts:login")
            if pending.is_expired():
                login_flow.pending_login_clear(request)
                messages.warning(request, _("Your sign-in took too long. Please start again."))
                return redirect("accounts:login")
            if pending.stage != key:
                return redirect(step_url_name(pending))
            step = step_get(key) or EMAIL_LINK
            request.pending_login = pending  # a loader may read what it carries
            member = step.load(pending.user_id, request)
            if member is None or not pending.is_still_for(member.user):
                return login_flow.pending_login_void(request)
            request.step_member = member
            request.pending_user = member.user
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def step_passed(
    request: HttpRequest,
    *,
    user: User,
    method: str,
    events: tuple[SecurityEvent, ...] = (),
    trust: bool = False,
) -> HttpResponse:
    """The member passed their second step by ``method``: sign them in (recording ``events``
    with the sign-in) and go where the login was headed. ``trust``: the member ticked "Trust
    this browser" (``trust_requested``); it is honoured only if the team offers it to them
    now (their account as this request loaded it, with the member)."""
    days = trust_days_for(user, account=user.account) if trust and user.account_id else 0
    return login_flow.pending_login_complete(
        request, user=user, method=method, events=events, trust_days=days
    )


# --- Trusted browsers (accounts.trusted_browsers) --------------------------------------------


def trust_days_for(user: User, *, account: Account | None) -> int:
    """For how many days ``user`` may trust a browser at their second step: 0 when it is not
    offered (an SSO member, a team that turned it off, a member who must first set up a
    factor the requirement accepts: a trust never skips that; staff, whose password and second
    step open /admin/ and the support actions for every team)."""
    if user.is_sso or account is None or not account.trust_browsers:
        return 0
    if user.is_staff or user.is_superuser:
        return 0
    if account.require_totp and not meets_requirement(user, account=account):
        return 0
    return account.trust_days


def trust_requested(request: HttpRequest) -> bool:
    """The second step's form asked to trust this browser, and this login offered it. Only
    the step views ask: nothing else (an invitation, SSO) can make a trust."""
    pending = login_flow.pending_login_get(request)
    return pending is not None and pending.trust_days > 0 and request.POST.get("trust") == "on"
