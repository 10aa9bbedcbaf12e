"""State changes of the authenticator app: enroll, confirm, verify at sign-in, remove.
Keyword-only, atomic; a time step is consumed by one conditional UPDATE, never
read-then-write. Its recovery codes (security.recovery_codes) are its backup."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from accounts import stages
from accounts.models import User
from accounts.services import user_sessions_end
from accounts.stages import StepMember
from security import encryption, lockout
from security.events import Audit, Kind, event_record
from security.lockout import Verification
from security.models import TOTPDevice
from security.policy import active_apps, removal_allowed
from security.recovery_codes import services as recovery_code_services
from security.totp import codes
from twofactor_site.mail import email_send_later

CODE_STEP = "code"  # the key of this step in accounts.stages (security/apps.py registers it)

# --- Reading -------------------------------------------------------------------------------


def active_device(user: User) -> TOTPDevice | None:
    return active_apps().filter(user=user).first()


def has_active_app(user: User) -> bool:
    """Whether ``user`` signs in with the app (accounts.stages asks this)."""
    return active_apps().filter(user=user).exists()


def device_secret(device: TOTPDevice) -> str:
    return encryption.decrypt(device.secret_encrypted)


def enrollment_device(*, user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed_at=None).first()


# --- Enrollment ----------------------------------------------------------------------------


@transaction.atomic
def totp_enrollment_start(*, user: User) -> None:
    """Begin (or begin again) enrollment: a new server-side secret and ten new recovery codes,
    all inactive until ``totp_device_confirm``. Nothing changes for the member yet."""
    # One enrollment start at a time per member (a double click sends two): the member's row
    # is locked for the rest of this transaction.
    User.objects.select_for_update().filter(pk=user.pk).exists()
    TOTPDevice.objects.filter(user=user, confirmed_at=None).delete()
    recovery_code_services.recovery_codes_discard_pending(user=user)
    if TOTPDevice.objects.filter(user=user).exists():
        raise ValueError("user already has an active authenticator app")
    TOTPDevice.objects.create(user=user, secret_encrypted=encryption.encrypt(codes.secret_new()))
    recovery_code_services.recovery_codes_store(user=user, active=False)


def totp_device_confirm(*, audit: Audit, user: User, code: str) -> bool:
    """Activate the enrolling app if ``code`` is current for its secret. The new recovery
    codes replace any old ones, and every other session of the member ends, in the same
    transaction (the caller re-attaches its own)."""
    device = enrollment_device(user=user)
    if device is None:
        return False
    step = codes.match_step(device_secret(device), code, at=timezone.now().timestamp())
    if step is None:
        return False
    with transaction.atomic():
        activated = TOTPDevice.objects.filter(pk=device.pk, confirmed_at=None).update(
            confirmed_at=timezone.now(), last_used_step=step
        )
        if not activated:
            return False
        recovery_code_services.recovery_codes_activate_pending(user=user)
        user_sessions_end(user=user)
        email_send_later(to=[user.email], name="factor-added", context={"user": user})
    event_record(kind=Kind.TOTP_ADDED, audit=audit, user=user, actor=user)
    return True


# --- Verifying at sign-in ------------------------------------------------------------------


@dataclass(frozen=True)
class CodeStepMember(StepMember):
    """The member at the code step, with what verifying this request's code needs: what
    ``code_step_load`` loaded, and nothing it did not."""

    device_loaded: bool = False
    device: TOTPDevice | None = None  # the active app, when loaded; None without one


def code_step_load(user_id: int, request: HttpRequest) -> CodeStepMember | None:
    """The code step's loader (registered in security/apps.py): the active member by primary
    key, with what this request needs. The page needs the member's row and which other
    ways in they have (their steps come with the pending login; backups are annotations). A posted 6-digit code needs the
    authenticator device (joined). A guess wrong costs a query, never a check:
    ``totp_code_verify`` looks up what was not loaded."""
    raw = request.POST.get("code", "") if request.method == "POST" else None
    wants_device = raw is not None and codes.normalize_code(raw) is not None
    if wants_device:  # a sign-in's notice names the team
        users = User.objects.select_related("account", "totp_device")
    elif stages.steps_carried(request):  # the page: the member's steps come with the login
        users = stages.members_with_backups()
    else:
        users = stages.members_with_steps(team=True)
    try:
        user = users.get(pk=user_id, is_active=True)
    except User.DoesNotExist:
        return None
    device = None
    if wants_device:
        # An app is never un-confirmed, and a row of an app removed since matches nothing in
        # the conditional UPDATE of _totp_accept, which is by primary key.
        device = getattr(user, "totp_device", None)
        device = device if device is not None and device.confirmed_at is not None else None
    return CodeStepMember(user=user, device_loaded=wants_device, device=device)


def _totp_accept(*, device: TOTPDevice | None, code: str) -> bool:
    if device is None:
        return False
    step = codes.match_step(device_secret(device), code, at=timezone.now().timestamp())
    if step is None:
        return False
    # Only a step later than the last accepted one: a replayed or raced code updates nothing.
    return (
        TOTPDevice.objects.filter(pk=device.pk)
        .filter(Q(last_used_step__isnull=True) | Q(last_used_step__lt=step))
        .update(last_used_step=step)
        == 1
    )


def totp_code_verify(*, audit: Audit, member: CodeStepMember, raw: str) -> Verification:
    """Check a code from the app typed at the code step, through the lockout
    (security.lockout.verify_guarded). Recovery codes have a step of their own
    (security.recovery_codes.services.recovery_code_verify)."""
    user = member.user

    def accept() -> Verification | None:
        code = codes.normalize_code(raw)
        if code is None:
            return None
        device = member.device if member.device_loaded else active_device(user)
        return (
            Verification(ok=True, method="totp") if _totp_accept(device=device, code=code) else None
        )

    return lockout.verify_guarded(audit=audit, user=user, accept=accept)


def reauth_code_check(*, user: User, raw: str) -> bool:
    """A current code proves presence in settings; it is consumed like one at sign-in."""
    code = codes.normalize_code(raw)
    return code is not None and _totp_accept(device=active_device(user), code=code)


# --- Removing ------------------------------------------------------------------------------


def totp_device_remove(*, audit: Audit, user: User) -> bool:
    """Back to the member's other factor (a passkey) or the email link, and every other
    session of the member ends (the caller re-attaches its own). Their recovery codes go
    with their last factor. Refused while the team's requirement needs the app."""
    if not removal_allowed(user, step_key=CODE_STEP):
        return False
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        if stages.steps_of(user) == [stages.EMAIL_LINK]:
            recovery_code_services.recovery_codes_delete(user=user)
        user_sessions_end(user=user)
        email_send_later(to=[user.email], name="factor-removed", context={"user": user})
    event_record(kind=Kind.TOTP_REMOVED, audit=audit, user=user)
    return True
