"""State changes of passkeys: register, verify at sign-in, rename, remove. Keyword-only,
atomic; a challenge is consumed by one conditional DELETE and a counter moves by one
conditional UPDATE, never read-then-write. The ceremonies themselves are ceremony.py's."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts import stages
from accounts.models import User
from accounts.services import user_sessions_end
from accounts.stages import StepMember
from security import lockout
from security.events import Audit, Kind, event_record
from security.lockout import Verification
from security.passkeys import ceremony
from security.passkeys.models import Passkey, PasskeyChallenge
from security.policy import removal_allowed
from security.recovery_codes import services as recovery_code_services
from twofactor_site.mail import email_send_later

PASSKEY_STEP = "passkey"  # the key of this step in accounts.stages (security/apps.py)
# A challenge outlives the browser's own timeout (ceremony.TIMEOUT_MS) by a little, so an
# answer given at the last moment is still checked, and is refused after that.
CHALLENGE_SECONDS = 180
# Challenges a member may hold at once (tabs, reloads); older ones are dropped.
CHALLENGES_PER_MEMBER = 5


def relying_party() -> ceremony.RelyingParty:
    """This site as WebAuthn sees it, from SITE_URL (read at call time)."""
    return ceremony.relying_party(settings.SITE_URL, settings.SITE_NAME)


def binding_of(secret: str) -> str:
    """What a challenge is bound to: the digest of a secret only this browser holds (its
    pending login's nonce, or the registration value in its session)."""
    return hashlib.sha256(secret.encode()).hexdigest()


# --- Reading -------------------------------------------------------------------------------


def has_passkey(user: User) -> bool:
    """Whether ``user`` signs in with a passkey (accounts.stages asks this)."""
    return Passkey.objects.filter(user=user).exists()


def passkeys_exist():
    """For lists (accounts.stages.with_factors): whether the row's member has a passkey."""
    return Exists(Passkey.objects.filter(user=OuterRef("pk")))


def passkeys_of(user: User) -> list[Passkey]:
    return list(Passkey.objects.filter(user=user))


def _known(passkeys: list[Passkey]) -> list[ceremony.KnownCredential]:
    return [ceremony.KnownCredential(p.credential_id, list(p.transports)) for p in passkeys]


# --- Challenges ----------------------------------------------------------------------------


def _challenge_issue(*, user: User, purpose: str, binding: str) -> bytes:
    challenge = ceremony.challenge_new()
    now = timezone.now()
    with transaction.atomic():
        stale = PasskeyChallenge.objects.filter(user=user).filter(
            Q(expires_at__lte=now) | Q(purpose=purpose, binding=binding)
        )
        stale.delete()  # a reload of the page replaces its own challenge
        keep = PasskeyChallenge.objects.filter(user=user).order_by("-expires_at")
        old = keep.values_list("pk", flat=True)[CHALLENGES_PER_MEMBER - 1 :]
        PasskeyChallenge.objects.filter(pk__in=list(old)).delete()
        PasskeyChallenge.objects.create(
            user=user,
            purpose=purpose,
            binding=binding,
            challenge_digest=hashlib.sha256(challenge).hexdigest(),
            expires_at=now + timedelta(seconds=CHALLENGE_SECONDS),
        )
    return challenge


def _challenge_consume(*, user: User, purpose: str, binding: str, challenge: bytes) -> bool:
    """Use the challenge the answer signed, once: one DELETE of an unexpired challenge of
    this member, purpose and browser. A replayed answer, or two at once, find it gone."""
    deleted, _by_model = PasskeyChallenge.objects.filter(
        user=user,
        purpose=purpose,
        binding=binding,
        challenge_digest=hashlib.sha256(challenge).hexdigest(),
        expires_at__gt=timezone.now(),
    ).delete()
    return deleted == 1


# --- Registering ---------------------------------------------------------------------------


class RegistrationRefused(Exception):
    """A key could not be added; ``reason`` says which page to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "expired", "invalid", "duplicate"


def _user_handle(user: User) -> bytes:
    """WebAuthn's user.id: stable per member, not their email or primary key (the spec asks
    for no personal data); derived with SECRET_KEY, so it needs no column."""
    return salted_hmac("twofactor.passkeys.user-handle", str(user.pk)).digest()


def passkey_registration_begin(*, user: User, binding: str) -> dict:
    """The options for navigator.credentials.create(), with a fresh challenge for this
    browser. The member's keys are excluded: one authenticator is registered once."""
    challenge = _challenge_issue(
        user=user, purpose=PasskeyChallenge.Purpose.REGISTER, binding=binding
    )
    return ceremony.registration_options(
        rp=relying_party(),
        challenge=challenge,
        user_handle=_user_handle(user),
        user_name=user.email,
        display_name=user.name,
        exclude=_known(passkeys_of(user)),
    )


def passkey_register(*, audit: Audit, user: User, binding: str, name: str, answer: str) -> Passkey:
    """Add the key the browser's ``answer`` registers, if it answers a challenge of ours for
    this browser. Pending recovery codes (made when the member had none) become active, and
    every other session of the member ends, in the same transaction (the caller re-attaches
    its own). Raises RegistrationRefused."""
    try:
        data = ceremony.answer_parse(answer)
        challenge = ceremony.answer_challenge(data)
    except ceremony.Refused:
        raise RegistrationRefused("invalid") from None
    if not _challenge_consume(
        user=user, purpose=PasskeyChallenge.Purpose.REGISTER, binding=binding, challenge=challenge
    ):
        raise RegistrationRefused("expired")
    try:
        new = ceremony.registration_verify(rp=relying_party(), challenge=challenge, data=data)
    except ceremony.Refused:
        raise RegistrationRefused("invalid") from None
    try:
        with transaction.atomic():
            passkey = Passkey.objects.create(
                user=user,
                name=name,
                credential_id=new.credential_id,
                public_key=new.public_key,
                sign_count=new.sign_count,
                transports=new.transports,
            )
            if recovery_codes_needed(user=user):  # the codes saved before this first key
                recovery_code_services.recovery_codes_activate_pending(user=user)
            user_sessions_end(user=user)
            email_send_later(
                to=[user.email], name="passkey-added", context={"user": user, "passkey_name": name}
            )
    except IntegrityError:
        raise RegistrationRefused("duplicate") from None
    event_record(kind=Kind.PASSKEY_ADDED, audit=audit, user=user, actor=user, name=name)
    return passkey


def recovery_codes_needed(*, user: User) -> bool:
    """A member without recovery codes gets them before their first key."""
    return recovery_code_services.recovery_codes_remaining(user=user) == 0


def recovery_codes_prepare(*, user: User) -> list[str]:
    """Ten new codes for the member to save before adding a key, inactive until a key is
    added (passkey_register). Asked again, it makes new ones."""
    recovery_code_services.recovery_codes_discard_pending(user=user)
    return recovery_code_services.recovery_codes_store(user=user, active=False)


# --- Verifying at sign-in ------------------------------------------------------------------


@dataclass(frozen=True)
class PasskeyStepMember(StepMember):
    """The member at the passkey step, with their keys."""

    passkeys: tuple[Passkey, ...] = ()


def passkey_step_load(user_id: int, request: HttpRequest) -> PasskeyStepMember | None:
    """The passkey step's loader (registered in security/apps.py): the active member and
    their keys, in two queries."""
    try:
        user = User.objects.select_related("account").get(pk=user_id, is_active=True)
    except User.DoesNotExist:
        return None
    return PasskeyStepMember(user=user, passkeys=tuple(passkeys_of(user)))


def passkey_sign_in_begin(*, member: PasskeyStepMember, binding: str) -> dict:
    """The options for navigator.credentials.get(), for this pending login only."""
    challenge = _challenge_issue(
        user=member.user, purpose=PasskeyChallenge.Purpose.SIGN_IN, binding=binding
    )
    return ceremony.authentication_options(
        rp=relying_party(), challenge=challenge, allow=_known(list(member.passkeys))
    )


def _refused(reason: str) -> Verification:
    return Verification(ok=False, reason=reason)


def passkey_verify(
    *, audit: Audit, member: PasskeyStepMember, binding: str, answer: str
) -> Verification:
    """Check the browser's answer at the passkey step, through the lockout like a code
    (security.lockout.verify_guarded): the challenge of this pending login, once; one of the
    member's own keys; its signature; a counter that went up. A refused answer's reason is
    in the failure's event: "unknown_key", "expired", "invalid", "counter_went_back"."""
    user = member.user

    def accept() -> Verification:
        try:
            data = ceremony.answer_parse(answer)
            challenge = ceremony.answer_challenge(data)
            credential_id = ceremony.answer_credential_id(data)
        except ceremony.Refused:
            return _refused("invalid")
        if not _challenge_consume(
            user=user,
            purpose=PasskeyChallenge.Purpose.SIGN_IN,
            binding=binding,
            challenge=challenge,
        ):
            return _refused("expired")
        passkey = next((p for p in member.passkeys if p.credential_id == credential_id), None)
        if passkey is None:
            return _refused("unknown_key")
        try:
            count = ceremony.assertion_verify(
                rp=relying_party(),
                challenge=challenge,
                data=data,
                public_key=bytes(passkey.public_key),
                sign_count=passkey.sign_count,
            )
        except ceremony.CounterWentBack as went_back:
            _counter_went_back(audit=audit, passkey=passkey, went_back=went_back)
            return _refused("counter_went_back")
        except ceremony.Refused:
            return _refused("invalid")
        if not _passkey_use(passkey=passkey, count=count):
            return _refused("counter_went_back")  # a parallel answer moved it past this one
        return Verification(ok=True, method="passkey")

    return lockout.verify_guarded(audit=audit, user=user, accept=accept)


def _passkey_use(*, passkey: Passkey, count: int) -> bool:
    """Record the key's use and its new counter, only if no other answer moved it past this
    one meanwhile (a key without a counter, always 0, just records the use)."""
    keys = Passkey.objects.filter(pk=passkey.pk)
    keys = keys.filter(sign_count__lt=count) if count else keys.filter(sign_count=0)
    return keys.update(sign_count=count, last_used_at=timezone.now()) == 1


def _counter_went_back(
    *, audit: Audit, passkey: Passkey, went_back: ceremony.CounterWentBack
) -> None:
    event_record(
        kind=Kind.PASSKEY_COUNTER_WENT_BACK,
        audit=audit,
        user=passkey.user,
        name=passkey.name,
        stored_count=went_back.stored,
        received_count=went_back.received,
    )


# --- Renaming and removing -----------------------------------------------------------------


def passkey_rename(*, audit: Audit, user: User, passkey: Passkey, name: str) -> None:
    old = passkey.name
    if old == name:
        return
    with transaction.atomic():
        Passkey.objects.filter(pk=passkey.pk, user=user).update(name=name)
        email_send_later(
            to=[user.email],
            name="passkey-renamed",
            context={"user": user, "old_name": old, "passkey_name": name},
        )
    passkey.name = name
    event_record(kind=Kind.PASSKEY_RENAMED, audit=audit, user=user, old_name=old, name=name)


def passkey_removal_allowed(*, user: User, passkey: Passkey) -> bool:
    """Another key remains, or the team's requirement lets the member go without one."""
    others = Passkey.objects.filter(user=user).exclude(pk=passkey.pk).exists()
    return others or removal_allowed(user, step_key=PASSKEY_STEP)


def passkey_remove(*, audit: Audit, user: User, passkey: Passkey) -> bool:
    """Remove one key; every other session of the member ends (the caller re-attaches its
    own). When it was their last factor, their recovery codes go too (they sign in with an
    email link again). Refused while the team's requirement needs it."""
    if not passkey_removal_allowed(user=user, passkey=passkey):
        return False
    with transaction.atomic():
        deleted, _by_model = Passkey.objects.filter(pk=passkey.pk, user=user).delete()
        if not deleted:
            return False
        if stages.steps_of(user) == [stages.EMAIL_LINK]:
            recovery_code_services.recovery_codes_delete(user=user)
        user_sessions_end(user=user)
        email_send_later(
            to=[user.email],
            name="passkey-removed",
            context={"user": user, "passkey_name": passkey.name},
        )
    event_record(kind=Kind.PASSKEY_REMOVED, audit=audit, user=user, name=passkey.name)
    return True
