"""State changes of recovery codes: store, activate, regenerate, consume. Keyword-only; a
code is consumed by one conditional UPDATE, never read-then-write."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from accounts.services import user_sessions_end
from security import encryption
from security.events import Audit, Kind, event_record
from security.models import RecoveryCode
from security.recovery_codes import codes
from twofactor_site.mail import email_send

# --- Reading -------------------------------------------------------------------------------


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
    event_record(kind=Kind.RECOVERY_CODES_REGENERATED, audit=audit, user=user, actor=user)
    email_send(to=[user.email], name="recovery-codes-regenerated", context={"user": user})
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
