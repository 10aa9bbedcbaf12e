"""Wrong second-factor codes: every attempt is counted before any factor looks at it.

Every factor's verification goes through ``verify_guarded``: one conditional UPDATE counts
the attempt and refuses while the member is locked, so requests sent at once can never try
more codes than the limit allows, and while locked even a right code is refused. The counter
and the lock live on the member's row, so the limit holds across processes, hosts, restarts
and fresh sessions. Consecutive failures add up across lockouts; a completed sign-in clears
them (accounts.signals, with last_login).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import DateTimeField, F, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from accounts.models import User
from security.events import Audit, Kind, event_record
from security.models import SecurityEvent

# From how few tries left a step's page warns that a lock is coming: with the default of 10
# wrong codes before a lock, from the 7th wrong code on ("3 tries left").
TRIES_LEFT_WARNING = 3


@dataclass(frozen=True)
class Lock:
    """The member's code lockout as a page shows it."""

    locked: bool = False
    until: datetime | None = None  # when a lock for a while ends; None when not locked
    for_good: bool = False  # until an Account Admin removes and re-adds them
    # Not locked: wrong tries left before the next lock (None when not known), and whether
    # that lock would be for good (the consecutive cap comes first).
    tries_left: int | None = None
    next_for_good: bool = False

    @property
    def warn(self) -> bool:
        """Few enough tries are left that the page says how many."""
        return self.tries_left is not None and self.tries_left <= TRIES_LEFT_WARNING


UNLOCKED = Lock()


@dataclass(frozen=True)
class Verification:
    """What a factor's verification found: everything the step's page shows."""

    ok: bool
    method: str = ""  # "totp" or "recovery_code"
    lock: Lock = UNLOCKED
    remaining_codes: int | None = None  # recovery codes left, after one was used
    reason: str = ""  # why it failed, when the page can say more: "used" (a used recovery code)
    # Events that belong with the sign-in this verification allows; the sign-in stores them
    # in the same INSERT as its own (accounts.stages.step_passed).
    events: tuple[SecurityEvent, ...] = ()

    @property
    def locked(self) -> bool:
        return self.lock.locked


def lock_of(user: User, now: datetime | None = None) -> Lock:
    """Locked for a while after every TWOFACTOR_MAX_FAILED_CODES wrong codes in a row, and
    for good at TWOFACTOR_MAX_CONSECUTIVE_FAILED_CODES (an admin removes and re-adds them)."""
    if is_locked_for_good(user):
        return Lock(locked=True, for_good=True)
    now = now or timezone.now()
    if user.code_locked_until is not None and user.code_locked_until > now:
        return Lock(locked=True, until=user.code_locked_until)
    count = user.failed_code_count
    before_lock = settings.TWOFACTOR_MAX_FAILED_CODES - count % settings.TWOFACTOR_MAX_FAILED_CODES
    before_for_good = settings.TWOFACTOR_MAX_CONSECUTIVE_FAILED_CODES - count
    return Lock(
        tries_left=min(before_lock, before_for_good), next_for_good=before_for_good <= before_lock
    )


def is_locked(user: User, now: datetime | None = None) -> bool:
    return lock_of(user, now).locked


def is_locked_for_good(user: User) -> bool:
    return user.failed_code_count >= settings.TWOFACTOR_MAX_CONSECUTIVE_FAILED_CODES


def verify_guarded(
    *, audit: Audit, user: User, accept: Callable[[], Verification | None]
) -> Verification:
    """Reserve an attempt, then let ``accept`` look at the code: its Verification when it
    matched, None when it did not, or a Verification that is not ok when the factor can say
    why (then, as for None, the failure is recorded and may lock the member)."""
    if not attempt_reserve(user=user):
        lock_state_load(user=user)
        lock = lock_of(user)
        if not lock.locked:  # the lock ended between the two statements: still refused
            lock = Lock(locked=True, until=user.code_locked_until)
        return Verification(ok=False, lock=lock)
    accepted = accept()
    if accepted is not None and accepted.ok:
        return accepted
    return _failure_record(audit=audit, user=user, reason=accepted.reason if accepted else "")


def attempt_reserve(*, user: User) -> bool:
    """Count this attempt before looking at the code, unless the member is locked. The attempt
    that reaches a multiple of TWOFACTOR_MAX_FAILED_CODES starts the lockout in the same
    statement, so no parallel attempt gets past it. False: locked, nothing was tried."""
    now = timezone.now()
    until = now + timedelta(minutes=settings.TWOFACTOR_LOCKOUT_MINUTES)
    # The rule in the SQL it is: lock when this attempt's count is a multiple of the limit.
    # (The same as Case/When/Mod expressions, which cost more to build and compile than the
    # round trip; "%%" is SQL's modulo, escaped for the parameters.)
    lock_from_this_attempt = RawSQL(
        "CASE WHEN (failed_code_count + 1) %% %s = 0 THEN %s ELSE code_locked_until END",
        (settings.TWOFACTOR_MAX_FAILED_CODES, connection.ops.adapt_datetimefield_value(until)),
        output_field=DateTimeField(),
    )
    return (
        User.objects.filter(
            pk=user.pk, failed_code_count__lt=settings.TWOFACTOR_MAX_CONSECUTIVE_FAILED_CODES
        )
        .filter(Q(code_locked_until__isnull=True) | Q(code_locked_until__lte=now))
        .update(
            failed_code_count=F("failed_code_count") + 1,
            code_locked_until=lock_from_this_attempt,
        )
        == 1
    )


def lock_state_load(*, user: User) -> None:
    """The caller's copy of the member learns the counter and lockout as they are now, so the
    page of this very attempt tells the truth."""
    user.failed_code_count, user.code_locked_until = User.objects.values_list(
        "failed_code_count", "code_locked_until"
    ).get(pk=user.pk)


def _failure_record(*, audit: Audit, user: User, reason: str = "") -> Verification:
    lock_state_load(user=user)
    lock = lock_of(user)
    event_record(kind=Kind.CODE_FAILED, audit=audit, user=user)
    if lock.locked:
        event_record(
            kind=Kind.LOCKED_OUT,
            audit=audit,
            user=user,
            consecutive_failures=user.failed_code_count,
            for_good=lock.for_good,
        )
    return Verification(ok=False, lock=lock, reason=reason)
