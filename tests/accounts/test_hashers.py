"""Passwords are hashed with Argon2id at no less than the OWASP minimum; older hashes upgrade."""

import pytest
from argon2 import extract_parameters
from argon2.low_level import Type
from django.contrib.auth.hashers import identify_hasher, make_password

from accounts.models import User
from tests.conftest import PASSWORD, password_step
from twofactor_site import settings as project_settings


@pytest.fixture
def real_hashers(settings):
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    return settings


def _argon2_parameters(encoded: str):
    assert encoded.startswith("argon2$argon2id$"), encoded
    return extract_parameters(encoded.removeprefix("argon2"))


def test_hashers_argon2id_at_owasp_minimum(real_hashers):
    encoded = make_password(PASSWORD)
    assert identify_hasher(encoded).algorithm == "argon2"
    params = _argon2_parameters(encoded)
    assert params.type == Type.ID
    assert params.memory_cost >= 19456
    assert params.time_cost >= 2
    assert params.parallelism >= 1


def test_hashers_parameters_come_from_settings(real_hashers):
    real_hashers.ARGON2_MEMORY_COST_KIB = 32768
    real_hashers.ARGON2_TIME_COST = 3
    params = _argon2_parameters(make_password(PASSWORD))
    assert (params.memory_cost, params.time_cost, params.parallelism) == (32768, 3, 1)


def test_hashers_pbkdf2_hash_upgraded_on_sign_in(client, member, real_hashers):
    User.objects.filter(pk=member.pk).update(
        password=make_password(PASSWORD, hasher="pbkdf2_sha256")
    )
    password_step(client, member.email)
    member.refresh_from_db()
    params = _argon2_parameters(member.password)
    assert params.type == Type.ID
    assert member.check_password(PASSWORD)


def test_hashers_weaker_argon2_hash_upgraded_on_sign_in(client, member, real_hashers):
    real_hashers.ARGON2_TIME_COST = 2
    User.objects.filter(pk=member.pk).update(password=make_password(PASSWORD))
    real_hashers.ARGON2_TIME_COST = 3
    password_step(client, member.email)
    member.refresh_from_db()
    assert _argon2_parameters(member.password).time_cost == 3


def test_hashers_wrong_password_changes_nothing(client, member, real_hashers):
    old = make_password(PASSWORD, hasher="pbkdf2_sha256")
    User.objects.filter(pk=member.pk).update(password=old)
    password_step(client, member.email, "wrong password")
    member.refresh_from_db()
    assert member.password == old
