"""State changes of the second factor: security/totp/services.py, security/recovery_codes/services.py, security/lockout.py, without the views."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import RequestFactory
from django.utils import timezone

from accounts.models import Account, User
from security import encryption, lockout, policy
from security.models import RecoveryCode, SecurityEvent, TOTPDevice
from security.policy import requirement_applies
from security.recovery_codes import codes as recovery_codes
from security.recovery_codes import services as recovery_code_services
from security.totp import codes as totp
from security.totp import services as totp_services
from tests.conftest import AUDIT, enroll_totp, race, recovery_codes_of


def _verify(user: User, raw: str):
    """The code step's verification of ``raw`` for ``user``, loaded as the step loads them
    for a POST of ``raw``."""
    if totp.normalize_code(raw) is None:  # a recovery code: its own step
        member = recovery_code_services.recovery_step_load(user.pk, RequestFactory().post("/"))
        return recovery_code_services.recovery_code_verify(audit=AUDIT, member=member, raw=raw)
    member = totp_services.code_step_load(user.pk, RequestFactory().post("/", {"code": raw}))
    return totp_services.totp_code_verify(audit=AUDIT, member=member, raw=raw)


def fresh(user) -> User:
    return User.objects.select_related("account").get(pk=user.pk)


# --- Enrollment ---------------------------------------------------------------------------


def test_totp_enrollment_start_inactive_until_confirmed(member):
    totp_services.totp_enrollment_start(user=member)
    device = totp_services.enrollment_device(user=member)
    assert device.confirmed_at is None
    assert totp_services.active_device(member) is None
    assert RecoveryCode.objects.filter(user=member, active=False).count() == 10
    assert len(base64_bytes(totp_services.device_secret(device))) * 8 >= 160


def base64_bytes(secret: str) -> bytes:
    import base64

    return base64.b32decode(secret)


def test_totp_enrollment_start_refused_with_an_active_app(member_with_totp):
    before = TOTPDevice.objects.get(user=member_with_totp).secret_encrypted
    with pytest.raises(ValueError):
        totp_services.totp_enrollment_start(user=member_with_totp)
    assert TOTPDevice.objects.get(user=member_with_totp).secret_encrypted == before
    assert RecoveryCode.objects.filter(user=member_with_totp, active=True).count() == 10


def test_totp_device_confirm_wrong_code_changes_nothing(member):
    totp_services.totp_enrollment_start(user=member)
    secret = totp_services.device_secret(totp_services.enrollment_device(user=member))
    wrong = (
        "000000"
        if totp.match_step(secret, "000000", at=timezone.now().timestamp()) is None
        else "111111"
    )
    assert not totp_services.totp_device_confirm(audit=AUDIT, user=member, code=wrong)
    assert totp_services.active_device(member) is None
    assert not mail.outbox and not SecurityEvent.objects.exists()


def test_totp_device_confirm_without_enrollment_false(member):
    assert not totp_services.totp_device_confirm(audit=AUDIT, user=member, code="123456")


def test_totp_device_confirm_stores_the_step(member):
    totp_services.totp_enrollment_start(user=member)
    secret = totp_services.device_secret(totp_services.enrollment_device(user=member))
    step = totp.time_step(timezone.now().timestamp())
    assert totp_services.totp_device_confirm(
        audit=AUDIT, user=member, code=totp.code_at(secret, step)
    )
    assert TOTPDevice.objects.get(user=member).last_used_step == step
    # The confirming code is then used up for sign-in.
    assert not _verify(member, totp.code_at(secret, step)).ok


# --- Verifying -------------------------------------------------------------------------------


def test_second_factor_verify_totp_once(member_with_totp):
    code = totp.code_at(member_with_totp.totp_secret, totp.time_step(timezone.now().timestamp()))
    assert _verify(member_with_totp, code).ok
    again = _verify(member_with_totp, code)
    assert not again.ok


def test_second_factor_verify_without_active_device_refuses_codes(member):
    totp_services.totp_enrollment_start(user=member)
    secret = totp_services.device_secret(totp_services.enrollment_device(user=member))
    code = totp.code_at(secret, totp.time_step(timezone.now().timestamp()))
    assert not _verify(member, code).ok
    inactive = recovery_code_services.recovery_codes_list(user=member, active=False)[0][0]
    assert not _verify(member, inactive).ok


def test_second_factor_verify_recovery_code_reports_remaining(member_with_totp):
    code = recovery_codes_of(member_with_totp)[0]
    result = _verify(member_with_totp, code.upper())
    assert result.ok and result.method == "recovery_code" and result.remaining_codes == 9
    # The event is handed to the sign-in, which stores it with its own (one INSERT).
    (event,) = result.events
    assert event.kind == SecurityEvent.Kind.RECOVERY_CODE_USED and event.detail == {"remaining": 9}
    assert mail.outbox[-1].to == [member_with_totp.email]


def test_second_factor_verify_recovery_codes_of_another_user_refused(
    member_with_totp, account_admin
):
    enroll_totp(account_admin)
    theirs = recovery_codes_of(account_admin)[0]
    result = _verify(member_with_totp, theirs)
    assert not result.ok
    assert recovery_code_services.recovery_codes_remaining(user=account_admin) == 10


def test_second_factor_verify_recovery_codes_survive_key_rotation(member, settings):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.TWOFACTOR_ENCRYPTION_KEYS = [old]
    enroll_totp(member)
    code = recovery_codes_of(member)[0]
    settings.TWOFACTOR_ENCRYPTION_KEYS = [new, old]
    assert _verify(member, code).ok
    assert recovery_codes_of(member)[1]  # still readable after re-authentication
    regenerated = recovery_code_services.recovery_codes_regenerate(audit=AUDIT, user=member)
    settings.TWOFACTOR_ENCRYPTION_KEYS = [new]
    assert _verify(member, regenerated[0]).ok


def test_second_factor_verify_counts_and_locks(member_with_totp, settings):
    settings.TWOFACTOR_MAX_FAILED_CODES = 3
    settings.TWOFACTOR_LOCKOUT_MINUTES = 7
    results = [_verify(member_with_totp, "zzzzzzzzzz") for _ in range(3)]
    assert [r.locked for r in results] == [False, False, True]
    user = fresh(member_with_totp)
    assert lockout.is_locked(user)
    assert user.code_locked_until <= timezone.now() + timedelta(minutes=7)
    assert user.code_locked_until > timezone.now() + timedelta(minutes=6)
    code = totp.code_at(member_with_totp.totp_secret, totp.time_step(timezone.now().timestamp()))
    locked = _verify(user, code)
    assert not locked.ok and locked.locked
    assert not lockout.is_locked(user, now=user.code_locked_until + timedelta(seconds=1))


def test_max_failed_codes_setting_well_under_nist_limit():
    assert 1 <= django_settings.TWOFACTOR_MAX_FAILED_CODES < 100


def test_reauth_code_check_consumes_the_step(member_with_totp):
    step = totp.time_step(timezone.now().timestamp())
    code = totp.code_at(member_with_totp.totp_secret, step)
    assert totp_services.reauth_code_check(user=member_with_totp, raw=code)
    assert not totp_services.reauth_code_check(user=member_with_totp, raw=code)
    assert not totp_services.reauth_code_check(user=member_with_totp, raw="１２３４５６")


# --- Managing --------------------------------------------------------------------------------


def test_recovery_codes_regenerate_replaces_all(member_with_totp):
    old_digests = set(RecoveryCode.objects.values_list("digest", flat=True))
    new = recovery_code_services.recovery_codes_regenerate(audit=AUDIT, user=member_with_totp)
    assert len(new) == 10
    rows = RecoveryCode.objects.filter(user=member_with_totp)
    assert rows.count() == 10 and all(r.active and r.used_at is None for r in rows)
    assert old_digests.isdisjoint(rows.values_list("digest", flat=True))
    assert {encryption.keyed_digest(recovery_codes.normalize(c)) for c in new} == set(
        rows.values_list("digest", flat=True)
    )


def test_totp_device_remove_refused_while_required(member_with_totp):
    Account.objects.filter(pk=member_with_totp.account_id).update(require_totp=True)
    assert requirement_applies(member_with_totp)
    assert not totp_services.totp_device_remove(audit=AUDIT, user=member_with_totp)
    assert totp_services.active_device(member_with_totp) is not None


def test_requirement_applies_not_to_sso_members(sso_member):
    Account.objects.filter(pk=sso_member.account_id).update(require_totp=True)
    assert not requirement_applies(sso_member)


def test_requirement_set_needs_the_admins_own_app(account_admin, account):
    assert not policy.requirement_set(
        audit=AUDIT, account=account, admin=account_admin, required=True
    )
    enroll_totp(account_admin)
    assert policy.requirement_set(audit=AUDIT, account=account, admin=account_admin, required=True)
    assert Account.objects.get(pk=account.pk).require_totp


# --- Races: two requests with one code, exactly one success (PostgreSQL) ---------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_second_factor_verify_parallel_same_totp_code_one_success(member_with_totp):
    code = totp.code_at(member_with_totp.totp_secret, totp.time_step(timezone.now().timestamp()))
    results = race(*[lambda: _verify(member_with_totp, code).ok] * 4)
    assert results.count(True) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_second_factor_verify_parallel_same_recovery_code_one_success(member_with_totp):
    code = recovery_codes_of(member_with_totp)[0]
    results = race(*[lambda: _verify(member_with_totp, code).ok] * 4)
    assert results.count(True) == 1
    assert recovery_code_services.recovery_codes_remaining(user=member_with_totp) == 9


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_second_factor_verify_parallel_failures_all_counted(member_with_totp, settings):
    settings.TWOFACTOR_MAX_FAILED_CODES = 100
    race(*[lambda: _verify(member_with_totp, "zzzzzzzzzz")] * 4)
    assert fresh(member_with_totp).failed_code_count == 4


def test_second_factor_verify_stale_preloaded_device_of_a_removed_app_refused(member_with_totp):
    code = totp.code_at(member_with_totp.totp_secret, totp.time_step(timezone.now().timestamp()))
    posted = RequestFactory().post("/", {"code": code})
    stale = totp_services.code_step_load(member_with_totp.pk, posted)  # before the removal
    assert stale.device is not None
    totp_services.totp_device_remove(audit=AUDIT, user=member_with_totp)
    assert not totp_services.totp_code_verify(audit=AUDIT, member=stale, raw=code).ok
