"""Who uses which second factor, who must enroll, and the team's requirement."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import stages
from accounts.models import Account, User
from accounts.trusted_browsers import trusted_browsers_end_for_team
from security.events import Audit, Kind, event_record
from security.models import RequirementReminder, TOTPDevice
from twofactor_site.mail import email_send_later


class Method(str, Enum):
    EMAIL_LINK = "email_link"
    TOTP = "totp"
    SSO = "sso"

    @property
    def label(self) -> str:
        return {
            Method.EMAIL_LINK: _("Email link"),
            Method.TOTP: _("Authenticator app"),
            Method.SSO: _("Single sign-on"),
        }[self]


def active_apps() -> QuerySet[TOTPDevice]:
    """Authenticator apps in use: enrolled and confirmed with a code."""
    return TOTPDevice.objects.filter(confirmed_at__isnull=False)


def with_second_factor(users: QuerySet[User]) -> QuerySet[User]:
    """``users`` with ``has_app`` annotated, so a list needs no query per member."""
    return users.annotate(has_app=Exists(active_apps().filter(user=OuterRef("pk"))))


def method_of(user: User, *, has_active_device: bool | None = None) -> Method:
    """The member's second factor. Pass ``has_active_device`` when it is already known (a
    list annotated by ``with_second_factor``) to spare a query."""
    if user.is_sso:
        return Method.SSO
    if has_active_device is None:
        has_active_device = active_apps().filter(user=user).exists()
    return Method.TOTP if has_active_device else Method.EMAIL_LINK


def requirement_applies(user: User, *, account: Account | None = None) -> bool:
    """Whether the team's requirement binds this member, as it stands in the database now
    (SSO members are exempt: their identity provider handles sign-in security). Pass
    ``account`` when this request has just read the member's account row (the signed-in
    member comes with it: accounts.backends.EmailBackend.get_user): no query then."""
    if user.account_id is None or user.is_sso:
        return False
    if account is not None and account.pk == user.account_id:
        return account.require_totp
    return Account.objects.filter(pk=user.account_id, require_totp=True).exists()


def member_deadline(user: User, *, account: Account | None = None) -> datetime | None:
    """When the team's requirement starts sending ``user`` to set-up: the later of the team's
    date and the day they joined plus the team's grace period (a time already past while it
    is in force). None when it does not bind them (off, no team, SSO). ``account`` as for
    ``requirement_applies``."""
    if user.account_id is None or user.is_sso:
        return None
    if account is None or account.pk != user.account_id:
        account = Account.objects.get(pk=user.account_id)
    if not account.require_totp:
        return None
    joined_plus_grace = user.date_joined + timedelta(days=account.grace_days)
    if account.require_from is None:  # turned on before it could be scheduled
        return joined_plus_grace
    return max(account.require_from, joined_plus_grace)


def setup_deadline(user: User, *, account: Account | None = None) -> datetime | None:
    """``member_deadline`` for a member who has no factor the requirement accepts yet; None
    for everyone else (``account`` as for ``requirement_applies``)."""
    deadline = member_deadline(user, account=account)
    if deadline is None or stages.meets_requirement(user, account=account):
        return None
    return deadline


def must_enroll(user: User, *, account: Account | None = None) -> bool:
    """A signed-in member whose account requires a factor it accepts, whose deadline has
    come, and who has none yet (``account`` as for ``requirement_applies``)."""
    deadline = setup_deadline(user, account=account)
    return deadline is not None and deadline <= timezone.now()


@dataclass(frozen=True)
class Rollout:
    """Where the team's requirement stands, for the Security page."""

    starts: datetime | None  # the team's date (None: in force since before dates existed)
    grace_days: int
    set_up: int  # password members with a factor the requirement accepts
    waiting: list[tuple[User, datetime, bool]]  # the others: their deadline, and whether it came

    @property
    def total(self) -> int:
        return self.set_up + len(self.waiting)

    @property
    def scheduled(self) -> bool:
        """Whether the team's date is still ahead."""
        return self.starts is not None and self.starts > timezone.now()


def rollout_of(account: Account) -> Rollout:
    """Who has set up a factor the team's requirement accepts, and who has not yet and by
    when (members who sign in with a password: SSO members are exempt). One query."""
    set_up, waiting, now = 0, [], timezone.now()
    for member in _password_members(account):
        if any(stages.step_accepted(step, account) for step in stages.factors_of(member)):
            set_up += 1
        else:
            deadline = member_deadline(member, account=account)
            waiting.append((member, deadline, deadline <= now))
    waiting.sort(key=lambda row: (row[1], row[0].email))
    return Rollout(account.require_from, account.grace_days, set_up, waiting)


def removal_allowed(user: User, *, step_key: str) -> bool:
    """Whether the member may stop using their factor ``step_key`` (their app, or their last
    passkey): yes unless the team's requirement binds them and no other factor they have is
    one it accepts."""
    if not requirement_applies(user):
        return True
    account = user.account
    return any(
        step.key != step_key and stages.step_accepted(step, account) and step.is_active_for(user)
        for step in stages.registered()
    )


# How far ahead the requirement may be scheduled, and the longest grace period a member
# added later may get: the bounds, so a roll-out cannot be put off indefinitely.
REQUIREMENT_FROM_MAX_DAYS = 90
GRACE_DAYS_MAX = 14


def requirement_set(
    *,
    audit: Audit,
    account: Account,
    admin: User,
    required: bool,
    accept_passkeys: bool | None = None,
    starts_at: datetime | None = None,
    grace_days: int | None = None,
) -> bool:
    """Turn the team requirement on or off, or change what it accepts (``accept_passkeys``:
    the app or a passkey; None keeps the current choice), from when (``starts_at``, at most
    REQUIREMENT_FROM_MAX_DAYS ahead; a time past is now; None keeps the current date, or is
    now when turning it on) and the grace period of members added later (``grace_days``,
    0 to GRACE_DAYS_MAX; None keeps it). Turning it on needs a factor it would accept on the
    admin's own account: the requirement is set now, even when it binds members later."""
    accept = account.accept_passkeys if accept_passkeys is None else accept_passkeys
    grace = account.grace_days if grace_days is None else grace_days
    now = timezone.now()
    if starts_at is not None and starts_at > now + timedelta(days=REQUIREMENT_FROM_MAX_DAYS):
        raise ValueError(f"starts_at is more than {REQUIREMENT_FROM_MAX_DAYS} days ahead")
    if not 0 <= grace <= GRACE_DAYS_MAX:
        raise ValueError(f"grace_days must be 0 to {GRACE_DAYS_MAX}")
    if not required:
        starts = None
    elif starts_at is not None:
        starts = max(starts_at, now)
    else:
        starts = account.require_from if account.require_totp else now
    if required:
        proposed = copy.copy(account)
        proposed.require_totp, proposed.accept_passkeys = True, accept
        if not stages.meets_requirement(admin, account=proposed):
            return False
    state = {
        "require_totp": required,
        "accept_passkeys": accept,
        "require_from": starts,
        "grace_days": grace,
    }
    # On already, accepting the same factors: only its date or the grace period changes. That
    # is its own event, members already told are not told again, and those whose deadline
    # moved are told the new one.
    rescheduled = required and account.require_totp and accept == account.accept_passkeys
    before = copy.copy(account)
    with transaction.atomic():  # the change and its emails commit together
        changed = Account.objects.filter(pk=account.pk).exclude(**state).update(**state)
        for field, value in state.items():
            setattr(account, field, value)
        if changed and rescheduled:
            _requirement_rescheduled(audit=audit, account=account, before=before, admin=admin)
        elif changed:
            kind = Kind.REQUIREMENT_ON if required else Kind.REQUIREMENT_OFF
            detail = {}
            if required:
                detail = {"accepts": requirement_accepts(account)}
                if starts is not None and starts > now:  # scheduled: binds from that date
                    detail["from"] = starts.isoformat(timespec="seconds")
                if grace:
                    detail["grace_days"] = grace
                # Every member proves the factor the requirement accepts again: no trust made
                # before it skips that.
                trusted_browsers_end_for_team(account=account)
            event_record(kind=kind, audit=audit, user=admin, actor=admin, account=account, **detail)
            if required:
                _requirement_on_mail(account=account, admin=admin)
    return True


def _requirement_rescheduled(*, audit: Audit, account: Account, before: Account, admin: User):
    """The requirement's date or grace period changed (``before``: the team as it was): a
    ``requirement_changed`` event saying from what to what, and an email to each member whose
    own deadline now comes sooner or later (once per new deadline: the reminders due by then
    count as sent, so ``send_reminders`` does not repeat it). Trusts made since the
    requirement was set stay: what it accepts did not change."""
    detail = {"accepts": requirement_accepts(account)}
    if before.require_from != account.require_from:
        detail["from"] = _when(account.require_from)
        detail["from_before"] = _when(before.require_from)
    if before.grace_days != account.grace_days:
        detail["grace_days"] = account.grace_days
        detail["grace_days_before"] = before.grace_days
    event_record(
        kind=Kind.REQUIREMENT_CHANGED,
        audit=audit,
        user=admin,
        actor=admin,
        account=account,
        **detail,
    )
    _deadline_moved_mail(account=account, before=before, admin=admin)


def _when(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def _deadline_moved_mail(*, account: Account, before: Account, admin: User) -> None:
    """Each member without a factor the requirement accepts whose own deadline moved is told
    the new one, once: ``requirement-sooner`` when it comes sooner (unless it had come
    already), ``requirement-later`` when it comes later (also to a member it had sent to
    set-up: they have until then now). The reminders due by then count as sent: the email
    says what they would have."""
    from security.reminders import REMINDER_DAYS  # it imports this module

    now = timezone.now()
    for member in _members_short_of_requirement(account, but=admin):
        was, deadline = (
            member_deadline(member, account=before),
            member_deadline(member, account=account),
        )
        if deadline < was and was > now:
            name = "requirement-sooner"
        elif deadline > was and deadline > now:
            name = "requirement-later"
        else:
            continue  # unchanged, or already sent to set-up before and after the change
        if not cache.add(
            f"twofactor:{name}-mail:{member.pk}:{deadline.timestamp()}",
            1,
            REQUIREMENT_MAIL_SECONDS,
        ):
            continue
        for days in REMINDER_DAYS:
            if deadline - timedelta(days=days) <= now:
                RequirementReminder.objects.get_or_create(
                    user=member, deadline=deadline, days_before=days
                )
        _requirement_mail(
            name,
            account=account,
            admin=admin,
            member=member,
            now=now,
            deadline=deadline,
            was=was,
        )


def requirement_accepts(account: Account) -> str:
    """What the requirement accepts, for events and forms: "app" or "app_or_passkey"."""
    return "app_or_passkey" if account.accept_passkeys else "app"


def members_without_accepted_factor(account: Account, *, accept_passkeys: bool) -> int:
    """How many password members would be sent to set-up under the requirement with this
    choice (for the page that asks first)."""
    proposed = copy.copy(account)
    proposed.require_totp, proposed.accept_passkeys = True, accept_passkeys
    members = _password_members(account)
    return sum(1 for m in members if not stages.meets_requirement(m, account=proposed))


def _password_members(account: Account, *, but: User | None = None):
    """The team's active members who sign in with a password here (SSO members are exempt;
    ``but`` left out), each with the factors they have annotated (stages.with_factors), so
    asking each whether they meet the requirement costs no query of its own."""
    members = account.members.filter(is_active=True, identity=User.Identity.PASSWORD)
    if but is not None:
        members = members.exclude(pk=but.pk)
    return stages.with_factors(members)


# A member hears about the requirement at most once a day, however often it is turned off and
# on again (the toggle is rate limited too: RATELIMIT_REQUIREMENT).
REQUIREMENT_MAIL_SECONDS = 24 * 3600


def _requirement_on_mail(*, account: Account, admin: User) -> None:
    """Email the members the requirement affects: those who sign in with a password here and
    have no factor it accepts yet (SSO members are exempt; the admin who turned it on knows)."""
    for member in _members_short_of_requirement(account, but=admin):
        if not cache.add(f"twofactor:requirement-on-mail:{member.pk}", 1, REQUIREMENT_MAIL_SECONDS):
            continue  # told within the last day
        _requirement_mail(
            "requirement-on",
            account=account,
            admin=admin,
            member=member,
            now=timezone.now(),
            deadline=member_deadline(member, account=account),
        )


def _members_short_of_requirement(account: Account, *, but: User) -> Iterator[User]:
    """The password members (``but`` left out) with no factor the team's requirement accepts."""
    for member in _password_members(account, but=but):
        if not stages.meets_requirement(member, account=account):
            yield member


def _requirement_mail(
    name: str,
    *,
    account: Account,
    admin: User,
    member: User,
    now: datetime,
    deadline: datetime,
    **context,
) -> None:
    """Queue the requirement email ``name`` to ``member``. Its ``deadline`` is None when it has
    come (at ``now``): they are sent to set-up from now on, not from a date."""
    email_send_later(
        to=[member.email],
        name=name,
        context={
            "account": account,
            "admin": admin,
            "member": member,
            **context,
            "deadline": deadline if deadline > now else None,
        },
    )
