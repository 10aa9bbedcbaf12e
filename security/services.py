"""State changes of the second factor. Keyword-only, atomic; every consumable (a TOTP time
step, a recovery code) is consumed by one conditional UPDATE, never read-then-write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Mod
from django.db.models.lookups import Exact
from django.http import HttpRequest
from django.utils import timezone

from accounts.emails import email_send
from accounts.models import Account, User
from security import encryption, recovery_codes, totp
from security.events import Kind, event_build, event_record
from security.models import RecoveryCode, SecurityEvent, TOTPDevice
from security.policy import active_apps, requirement_applies

# --- Reading -------------------------------------------------------------------------------


def active_device(user: User) -> TOTPDevice | None:
    return active_apps().filter(user=user).first()


def recovery_codes_remaining(*, user: User) -> int:
    return RecoveryCode.objects.filter(user=user, active=True, used_at=None).count()


def recovery_codes_unused_subquery() -> Subquery:
    """The member's unused recovery codes, counted in the query that loads the member, so the
    code step learns how many are left without a query of its own."""
    unused = (
        RecoveryCode.objects.filter(user=OuterRef("pk"), active=True, used_at=None)
        .order_by()
        .values("user")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return Coalesce(Subquery(unused, output_field=IntegerField()), 0)


def recovery_codes_list(*, user: User, active: bool = True) -> list[tuple[str, bool]]:
    """The member's codes in display form with whether each is used. Decrypts: call only
    after the member re-authenticated."""
    rows = RecoveryCode.objects.filter(user=user, active=active).order_by("id")
    return [
        (recovery_codes.display(encryption.decrypt(row.code_encrypted)), row.used_at is not None)
        for row in rows
    ]


def device_secret(device: TOTPDevice) -> str:
    return encryption.decrypt(device.secret_encrypted)


# --- Enrollment ----------------------------------------------------------------------------


def _recovery_codes_store(*, user: User, active: bool) -> list[str]:
    codes = recovery_codes.generate()
    RecoveryCode.objects.bulk_create(
        RecoveryCode(
            user=user,
            digest=encryption.keyed_digest(recovery_codes.normalize(code)),
            code_encrypted=encryption.encrypt(recovery_codes.normalize(code)),
            active=active,
        )
        for code in codes
    )
    return codes


@transaction.atomic
def totp_enrollment_start(*, user: User) -> None:
    """Begin (or begin again) enrollment: a new server-side secret and ten new recovery codes,
    all inactive until ``totp_device_confirm``. Nothing changes for the member yet."""
    # One enrollment start at a time per member (a double click sends two): the member's row
    # is locked for the rest of this transaction.
    User.objects.select_for_update().filter(pk=user.pk).exists()
    TOTPDevice.objects.filter(user=user, confirmed_at=None).delete()
    RecoveryCode.objects.filter(user=user, active=False).delete()
    if TOTPDevice.objects.filter(user=user).exists():
        raise ValueError("user already has an active authenticator app")
    TOTPDevice.objects.create(user=user, secret_encrypted=encryption.encrypt(totp.secret_new()))
    _recovery_codes_store(user=user, active=False)


def enrollment_device(*, user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed_at=None).first()


def totp_device_confirm(*, request: HttpRequest, user: User, code: str) -> bool:
    """Activate the enrolling app if ``code`` is current for its secret. The new recovery
    codes replace any old ones in the same transaction."""
    device = enrollment_device(user=user)
    if device is None:
        return False
    step = totp.match_step(device_secret(device), code)
    if step is None:
        return False
    with transaction.atomic():
        activated = TOTPDevice.objects.filter(pk=device.pk, confirmed_at=None).update(
            confirmed_at=timezone.now(), last_used_step=step
        )
        if not activated:
            return False
        RecoveryCode.objects.filter(user=user, active=True).delete()
        RecoveryCode.objects.filter(user=user, active=False).update(active=True)
    event_record(kind=Kind.TOTP_ADDED, request=request, user=user, actor=user)
    email_send(to=[user.email], name="factor-added", context={"user": user})
    return True


# --- Verifying at sign-in ------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    ok: bool
    method: str = ""  # "totp" or "recovery_code"
    locked: bool = False
    remaining_codes: int | None = None
    # Events that belong with the sign-in this verification allows; the sign-in stores them
    # in the same INSERT as its own (accounts.login_flow.pending_login_complete).
    events: tuple[SecurityEvent, ...] = ()


def is_locked(user: User, now=None) -> bool:
    """Locked for a while after every TWOFACTOR_MAX_FAILED_CODES wrong codes in a row, and
    for good at TWOFACTOR_MAX_CONSECUTIVE_FAILED_CODES (an admin removes and re-adds them)."""
    now = now or timezone.now()
    if is_locked_for_good(user):
        return True
    return user.code_locked_until is not None and user.code_locked_until > now


def is_locked_for_good(user: User) -> bool:
    return user.failed_code_count >= settings.TWOFACTOR_MAX_CONSECUTIVE_FAILED_CODES


def _verifying_device(user: User) -> TOTPDevice | None:
    """The active device, from the row the sign-in step loaded with the user when it did.
    Only an active cached row is trusted: an app is never un-confirmed, and a stale row of a
    removed app matches nothing in the conditional UPDATE, which is by primary key."""
    if User.totp_device.is_cached(user):
        device = getattr(user, "totp_device", None)
        if device is not None and device.confirmed_at is not None:
            return device
    return active_device(user)


def _totp_accept(*, user: User, code: str) -> bool:
    device = _verifying_device(user)
    if device is None:
        return False
    step = totp.match_step(device_secret(device), code)
    if step is None:
        return False
    # Only a step later than the last accepted one: a replayed or raced code updates nothing.
    return (
        TOTPDevice.objects.filter(pk=device.pk)
        .filter(Q(last_used_step__isnull=True) | Q(last_used_step__lt=step))
        .update(last_used_step=step)
        == 1
    )


def _recovery_code_accept(*, user: User, normalized: str) -> bool:
    return (
        RecoveryCode.objects.filter(
            user=user,
            active=True,
            used_at=None,
            digest__in=encryption.keyed_digest_candidates(normalized),
        ).update(used_at=timezone.now())
        == 1
    )


def second_factor_verify(*, request: HttpRequest, user: User, raw: str) -> Verification:
    """Check what the member typed at the code step: a 6-digit code or a recovery code.

    Every attempt is first counted as a failure by one conditional UPDATE that refuses while
    the member is locked, so requests sent at once can never try more codes than the limit
    allows, and while locked even a right code is refused. Consecutive failures add up across
    lockouts; a completed sign-in clears them (accounts.signals, with last_login).
    """
    if not _attempt_reserve(user=user):
        _lock_state_load(user=user)
        return Verification(ok=False, locked=True)
    code = totp.normalize_code(raw)
    if code is not None:
        if _totp_accept(user=user, code=code):
            return Verification(ok=True, method="totp")
    else:
        normalized = recovery_codes.normalize(raw)
        if normalized is not None and _recovery_code_accept(user=user, normalized=normalized):
            # Counted with the member before this code was used (see pending_login_required):
            # one fewer now. Two of one member's codes used at the same instant could each
            # report one too many; the codes themselves are still consumed exactly once.
            unused_before = getattr(user, "recovery_codes_unused", None)
            left = (
                unused_before - 1
                if unused_before is not None
                else recovery_codes_remaining(user=user)
            )
            used = event_build(
                kind=Kind.RECOVERY_CODE_USED, request=request, user=user, remaining=left
            )
            email_send(
                to=[user.email],
                name="recovery-code-used",
                context={"user": user, "remaining": left},
            )
            return Verification(
                ok=True, method="recovery_code", remaining_codes=left, events=(used,)
            )
    return _failure_record(request=request, user=user)


def _attempt_reserve(*, user: User) -> bool:
    """Count this attempt before looking at the code, unless the member is locked. The attempt
    that reaches a multiple of TWOFACTOR_MAX_FAILED_CODES starts the lockout in the same
    statement, so no parallel attempt gets past it. False: locked, nothing was tried."""
    now = timezone.now()
    attempt = F("failed_code_count") + 1
    until = now + timedelta(minutes=settings.TWOFACTOR_LOCKOUT_MINUTES)
    lock_now = Exact(Mod(attempt, Value(settings.TWOFACTOR_MAX_FAILED_CODES)), 0)
    return (
        User.objects.filter(
            pk=user.pk, failed_code_count__lt=settings.TWOFACTOR_MAX_CONSECUTIVE_FAILED_CODES
        )
        .filter(Q(code_locked_until__isnull=True) | Q(code_locked_until__lte=now))
        .update(
            failed_code_count=attempt,
            code_locked_until=Case(
                When(lock_now, then=Value(until)),
                default=F("code_locked_until"),
                output_field=DateTimeField(),
            ),
        )
        == 1
    )


def _lock_state_load(*, user: User) -> None:
    """The caller's copy of the member learns the counter and lockout as they are now, so the
    page of this very attempt tells the truth."""
    user.failed_code_count, user.code_locked_until = User.objects.values_list(
        "failed_code_count", "code_locked_until"
    ).get(pk=user.pk)


def _failure_record(*, request: HttpRequest, user: User) -> Verification:
    _lock_state_load(user=user)
    locked = is_locked(user)
    event_record(kind=Kind.CODE_FAILED, request=request, user=user)
    if locked:
        event_record(
            kind=Kind.LOCKED_OUT,
            request=request,
            user=user,
            consecutive_failures=user.failed_code_count,
            for_good=is_locked_for_good(user),
        )
    return Verification(ok=False, locked=locked)


def reauth_code_check(*, user: User, raw: str) -> bool:
    """A current code proves presence in settings; it is consumed like one at sign-in."""
    code = totp.normalize_code(raw)
    return code is not None and _totp_accept(user=user, code=code)


# --- Managing ------------------------------------------------------------------------------


def recovery_codes_regenerate(*, request: HttpRequest, user: User) -> list[str]:
    """Ten new codes; every old one dies in the same transaction."""
    with transaction.atomic():
        RecoveryCode.objects.filter(user=user).delete()
        codes = _recovery_codes_store(user=user, active=True)
    event_record(kind=Kind.RECOVERY_CODES_REGENERATED, request=request, user=user, actor=user)
    email_send(to=[user.email], name="recovery-codes-regenerated", context={"user": user})
    return codes


def totp_device_remove(*, request: HttpRequest, user: User, actor: User) -> bool:
    """Back to the email link. Refused while the member's account requires the app."""
    if requirement_applies(user):
        return False
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()
    event_record(kind=Kind.TOTP_REMOVED, request=request, user=user, actor=actor)
    email_send(to=[user.email], name="factor-removed", context={"user": user})
    return True


# --- The account's requirement -------------------------------------------------------------


def requirement_set(*, request: HttpRequest, account: Account, admin: User, required: bool) -> bool:
    """Turn the team requirement on or off. Turning it on needs the admin's own active app."""
    if required and active_device(admin) is None:
        return False
    changed = (
        Account.objects.filter(pk=account.pk)
        .exclude(require_totp=required)
        .update(require_totp=required)
    )
    account.require_totp = required
    if changed:
        kind = Kind.REQUIREMENT_ON if required else Kind.REQUIREMENT_OFF
        event_record(kind=kind, request=request, user=admin, actor=admin, account=account)
        if required:
            recipients = list(
                account.members.filter(is_active=True).values_list("email", flat=True)
            )
            for email in recipients:
                email_send(
                    to=[email], name="requirement-on", context={"account": account, "admin": admin}
                )
    return True
