"""State changes of recovery codes: store, activate, regenerate, consume. Keyword-only; a
code is consumed by one conditional UPDATE, never read-then-write."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone

from accounts import stages
from accounts.models import User
from accounts.services import user_sessions_end
from accounts.stages import StepMember
from security import encryption, lockout
from security.events import Audit, Kind, event_build, event_record
from security.lockout import Verification
from security.models import RecoveryCode
from security.recovery_codes import codes
from twofactor_site.mail import email_send_later

RECOVERY_CODE_STEP = "recovery-code"  # the key of this step in accounts.stages (security/apps.py)

# --- Reading -------------------------------------------------------------------------------


def recovery_codes_remaining(*, user: User) -> int:
    return RecoveryCode.objects.filter(user=user, active=True, used_at=None).count()


def has_recovery_codes(user: User) -> bool:
    """Whether ``user`` holds an unused recovery code (accounts.stages asks this)."""
    return RecoveryCode.objects.filter(user=user, active=True, used_at=None).exists()


def recovery_codes_exist() -> Exists:
    """For a step's loader (accounts.stages.with_steps): the row's member holds an unused code."""
    return Exists(RecoveryCode.objects.filter(user=OuterRef("pk"), active=True, used_at=None))


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
        (codes.display(encryption.decrypt(row.code_encrypted)), row.used_at is not None)
        for row in rows
    ]


# --- Changing ------------------------------------------------------------------------------


def recovery_codes_store(*, user: User, active: bool) -> list[str]:
    """Ten new codes for ``user`` (inactive while an enrollment is unfinished)."""
    new = codes.generate()
    RecoveryCode.objects.bulk_create(
        RecoveryCode(
            user=user,
            digest=encryption.keyed_digest(codes.normalize(code)),
            code_encrypted=encryption.encrypt(codes.normalize(code)),
            active=active,
        )
        for code in new
    )
    return new


def recovery_codes_discard_pending(*, user: User) -> None:
    """Forget the codes of an unfinished enrollment."""
    RecoveryCode.objects.filter(user=user, active=False).delete()


def recovery_codes_activate_pending(*, user: User) -> None:
    """The enrollment's codes replace any old ones (call inside the confirming transaction)."""
    RecoveryCode.objects.filter(user=user, active=True).delete()
    RecoveryCode.objects.filter(user=user, active=False).update(active=True)


def recovery_codes_delete(*, user: User) -> None:
    RecoveryCode.objects.filter(user=user).delete()


def recovery_codes_regenerate(*, audit: Audit, user: User) -> list[str]:
    """Ten new codes; every old one dies in the same transaction, and so does every other
    session of the member (the caller re-attaches its own)."""
    with transaction.atomic():
        recovery_codes_delete(user=user)
        new = recovery_codes_store(user=user, active=True)
        user_sessions_end(user=user)
        email_send_later(to=[user.email], name="recovery-codes-regenerated", context={"user": user})
    event_record(kind=Kind.RECOVERY_CODES_REGENERATED, audit=audit, user=user, actor=user)
    return new


def recovery_code_consume(*, user: User, normalized: str) -> bool:
    """Use one of the member's codes up, once: of two racing requests exactly one wins."""
    return (
        RecoveryCode.objects.filter(
            user=user,
            active=True,
            used_at=None,
            digest__in=encryption.keyed_digest_candidates(normalized),
        ).update(used_at=timezone.now())
        == 1
    )


# --- Verifying at sign-in ------------------------------------------------------------------


@dataclass(frozen=True)
class RecoveryStepMember(StepMember):
    """The member at the recovery-code step, with their unused codes counted."""

    recovery_codes_unused: int = 0  # before this attempt


def recovery_step_load(user_id: int, request: HttpRequest) -> RecoveryStepMember | None:
    """The recovery-code step's loader (registered in security/apps.py): the active member,
    their unused codes counted and their other ways in (for the page), in one query."""
    # The page's other ways in: the member's steps come with the pending login when it
    # carries them (stages.ways_here), the backups with the row. The team is joined: a
    # sign-in's notice names it.
    carried = stages.steps_carried(request)
    members = stages.members_with_backups if carried else stages.members_with_steps
    users = members(team=True)
    users = users.annotate(unused=recovery_codes_unused_subquery())
    try:
        user = users.get(pk=user_id, is_active=True)
    except User.DoesNotExist:
        return None
    return RecoveryStepMember(user=user, recovery_codes_unused=user.unused)


def recovery_code_verify(*, audit: Audit, member: RecoveryStepMember, raw: str) -> Verification:
    """Check a recovery code typed at sign-in, through the lockout like any factor
    (security.lockout.verify_guarded): used up once, emailed about, its use recorded with the
    sign-in. A code of the member's that was used before fails with the reason "used"."""
    user = member.user

    def accept() -> Verification | None:
        normalized = codes.normalize(raw)
        if normalized is None:
            return None
        with transaction.atomic():  # the code used up and its email queued, or neither
            consumed = recovery_code_consume(user=user, normalized=normalized)
            # Counted with the member before this code was used (recovery_step_load): one
            # fewer now. Two of one member's codes used at the same instant could each report
            # one too many; the codes themselves are still consumed exactly once.
            left = max(member.recovery_codes_unused - 1, 0)
            if consumed:
                email_send_later(
                    to=[user.email],
                    name="recovery-code-used",
                    context={"user": user, "remaining": left},
                )
        if not consumed:
            used = RecoveryCode.objects.filter(
                user=user,
                active=True,
                used_at__isnull=False,
                digest__in=encryption.keyed_digest_candidates(normalized),
            ).exists()
            return Verification(ok=False, reason="used") if used else None
        used = event_build(kind=Kind.RECOVERY_CODE_USED, audit=audit, user=user, remaining=left)
        return Verification(ok=True, method="recovery_code", remaining_codes=left, events=(used,))

    return lockout.verify_guarded(audit=audit, user=user, accept=accept)
