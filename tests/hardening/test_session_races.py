"""Signing out is final: a request that races a logout (the same session cookie used at the
same moment elsewhere, say a thief's copy) never brings the session back, in this id or a
new one; nor does one that races the end of a session by a factor change, a password reset
or a removal. Each race is played on the real Redis and PostgreSQL, at its worst moment: the
racing request is held just before it writes, the ending request runs to the end, then the
racing request goes on."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http import HTTPStatus

import pytest
import redis
from django.conf import settings
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import User
from accounts.tokens import password_reset_tokens
from security.recovery_codes import services as recovery_services
from tests.conftest import PASSWORD, password_step, recovery_code_post, sign_in_with_link

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

HOME = reverse("home")
REGENERATE = reverse("security:recovery-codes-regenerate")
SESSION_KEY_MARK = b"django.contrib.sessions.cache"
WRITES = {b"SET", b"SETEX", b"PSETEX", b"EVAL", b"EVALSHA", b"GETSET", b"SETNX"}


def _bytes(value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def _in_thread(work: Callable[[], object]) -> object:
    """Run ``work`` in its own thread (its own database connection) and wait for it."""
    result: list[object] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            result.append(work())
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the ending request did not finish (a lock?)"
    if errors:
        raise errors[0]
    return result[0] if result else None


def _race_before_session_write(monkeypatch, racing: Callable[[], object], ending) -> object:
    """Run ``racing`` here; the moment it is about to write a session to Redis, run ``ending``
    to completion in another thread, then let the write go."""
    me = threading.get_ident()
    fired = threading.Event()
    original = redis.Redis.execute_command

    def execute_command(self, *args, **options):
        if (
            threading.get_ident() == me
            and not fired.is_set()
            and _bytes(args[0]).upper() in WRITES
            and any(SESSION_KEY_MARK in _bytes(arg) for arg in args[1:])
        ):
            fired.set()
            _in_thread(ending)
        return original(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", execute_command)
    response = racing()
    assert fired.is_set(), "the racing request never wrote its session"
    return response


def _race_before_first_write(racing: Callable[[], object], ending) -> object:
    """Run ``racing`` here; the moment it is about to write to the database for the first
    time (its factor change has begun, its session was validated long before), run
    ``ending`` to completion first. Before the write, so it holds no lock the other needs."""
    fired = threading.Event()

    def wrapper(execute, sql, params, many, context):
        if not fired.is_set() and sql.lstrip().upper().startswith(("UPDATE", "DELETE", "INSERT")):
            fired.set()
            _in_thread(ending)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        response = racing()
    assert fired.is_set(), "the racing request never wrote"
    return response


def _due_a_write(client: Client) -> None:
    """Make the next request of ``client``'s session record its last use (written at most once
    a minute), so that it writes the session back: the racing write under test."""
    from importlib import import_module

    from accounts.middleware import LAST_SEEN_RESOLUTION_SECONDS, LAST_SEEN_SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore(
        client.cookies[settings.SESSION_COOKIE_NAME].value
    )
    store[LAST_SEEN_SESSION_KEY] = (
        store[LAST_SEEN_SESSION_KEY] - LAST_SEEN_RESOLUTION_SECONDS - 1
        if LAST_SEEN_SESSION_KEY in store
        else time.time() - LAST_SEEN_RESOLUTION_SECONDS - 1
    )
    store.save()


def _copy_of(client: Client) -> Client:
    """Another browser holding the same session cookie (a stolen copy)."""
    thief = Client(raise_request_exception=False)
    thief.cookies[settings.SESSION_COOKIE_NAME] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return thief


def _signed_in(client: Client) -> bool:
    response = client.get(HOME)
    if response.status_code == HTTPStatus.OK:
        return True
    assert response.status_code == HTTPStatus.FOUND, response.status_code
    return False


def _signed_in_with_codes(user: User, code_index: int = 0) -> Client:
    client = Client(raise_request_exception=False)
    code = recovery_services.recovery_codes_list(user=user)[code_index][0]
    password_step(client, user.email)
    recovery_code_post(client, code)
    assert _signed_in(client)
    return client


def test_a_request_racing_a_logout_does_not_bring_the_session_back(monkeypatch, member):
    owner = Client(raise_request_exception=False)
    sign_in_with_link(owner, member.email)
    thief = _copy_of(owner)
    stolen = thief.cookies[settings.SESSION_COOKIE_NAME].value
    _due_a_write(thief)

    _race_before_session_write(
        monkeypatch,
        lambda: thief.get(HOME),
        lambda: owner.post(reverse("accounts:logout")),
    )
    monkeypatch.undo()
    replay = Client(raise_request_exception=False)
    replay.cookies[settings.SESSION_COOKIE_NAME] = stolen
    assert not _signed_in(replay), "the logged-out session id was written back"
    assert not _signed_in(thief)


def test_a_key_rotation_racing_a_logout_does_not_carry_the_session_to_a_new_id(
    monkeypatch, member_with_totp
):
    owner = _signed_in_with_codes(member_with_totp)
    thief = _copy_of(owner)
    # Regenerating codes is a factor change: it rotates the session key (cycle_key).
    response = _race_before_session_write(
        monkeypatch,
        lambda: thief.post(REGENERATE),
        lambda: owner.post(reverse("accounts:logout")),
    )
    monkeypatch.undo()
    assert response.status_code in (HTTPStatus.BAD_REQUEST, HTTPStatus.FOUND)
    assert not _signed_in(thief), "the session came back under a new id"
    assert not _signed_in(owner)


def test_a_factor_change_racing_another_cannot_keep_an_ended_session(member_with_totp):
    owner = _signed_in_with_codes(member_with_totp, 0)
    thief = _signed_in_with_codes(member_with_totp, 1)
    # The owner's change ends every other session (the thief's). The thief's own change, in
    # flight at that moment, must not re-attach the thief's ended session.
    _race_before_first_write(lambda: thief.post(REGENERATE), lambda: owner.post(REGENERATE))
    assert not _signed_in(thief), "a session ended by a factor change came back"


def test_a_factor_change_racing_a_password_reset_cannot_keep_the_session(member_with_totp):
    thief = _signed_in_with_codes(member_with_totp)

    def reset() -> None:
        user = User.objects.get(pk=member_with_totp.pk)
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        token = password_reset_tokens.make_token(user)
        resetting = Client()
        form = resetting.get(reverse("accounts:password-reset-confirm", args=[uid, token]))
        new = "a brand new passphrase 42"
        resetting.post(form.url, {"new_password1": new, "new_password2": new})

    _race_before_first_write(lambda: thief.post(REGENERATE), reset)
    assert not _signed_in(thief), "a session ended by a password reset came back"


def test_a_request_racing_a_removal_does_not_bring_the_session_back(
    monkeypatch, member, account_admin
):
    admin = Client(raise_request_exception=False)
    sign_in_with_link(admin, account_admin.email)
    signed_in = Client(raise_request_exception=False)
    sign_in_with_link(signed_in, member.email)
    _due_a_write(signed_in)
    _race_before_session_write(
        monkeypatch,
        lambda: signed_in.get(HOME),
        lambda: admin.post(reverse("accounts:member-remove", args=[member.pk])),
    )
    monkeypatch.undo()
    assert not User.objects.filter(pk=member.pk).exists()
    assert not _signed_in(signed_in)


def test_logout_leaves_a_tombstone_that_expires_with_the_session(member):
    from django_redis import get_redis_connection

    client = Client()
    sign_in_with_link(client, member.email)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.post(reverse("accounts:logout"))
    raw = get_redis_connection("default")
    tombstones = [k for k in raw.keys("*") if key.encode() in k and b"ended" in k]
    assert len(tombstones) == 1
    assert 0 < raw.ttl(tombstones[0]) <= settings.SESSION_COOKIE_AGE
    assert not [k for k in raw.keys("*") if key.encode() in k and SESSION_KEY_MARK in k]


def test_signing_in_again_after_a_logout_works(member):
    client = Client()
    sign_in_with_link(client, member.email)
    client.post(reverse("accounts:logout"))
    sign_in_with_link(client, member.email)
    assert _signed_in(client)
    assert PASSWORD  # the same password still signs in


def test_a_new_session_never_takes_the_key_of_a_live_one(monkeypatch, member):
    """New keys are not checked with EXISTS first: the create writes only where no session is,
    so a drawn key that is taken (forced here) is drawn again, and the live session is left
    as it was."""
    from twofactor_site import sessions

    victim = Client()
    sign_in_with_link(victim, member.email)
    taken = victim.cookies[settings.SESSION_COOKIE_NAME].value
    draws = iter([taken, "n" * 32])
    real = sessions.session_key_new
    monkeypatch.setattr(sessions, "session_key_new", lambda: next(draws, None) or real())
    newcomer = Client()
    password_step(newcomer, member.email)  # a pending login: a new session
    assert newcomer.cookies[settings.SESSION_COOKIE_NAME].value == "n" * 32
    assert _signed_in(victim)
    assert not _signed_in(newcomer)


def test_session_keys_are_long_random_and_of_djangos_alphabet(member):
    keys = set()
    for _ in range(5):  # below the password limit of one email address
        client = Client()
        password_step(client, member.email)
        keys.add(client.cookies[settings.SESSION_COOKIE_NAME].value)
    assert len(keys) == 5
    for key in keys:
        # 32 characters of a-z and 0-9, as Django's own keys (at least 160 random bits).
        assert len(key) == 32 and key.isascii() and key.isalnum() and key == key.lower(), key


def _two_sessions(member) -> tuple[str, str]:
    """The member signed in in two browsers: the key and id of the second one's session."""
    from twofactor_site.sessions import SESSION_ID_SESSION_KEY, SessionStore

    here, there = Client(), Client()
    sign_in_with_link(here, member.email)
    sign_in_with_link(there, member.email)
    key = there.cookies[settings.SESSION_COOKIE_NAME].value
    return key, SessionStore(key).load()[SESSION_ID_SESSION_KEY]


def _rotated(session_key: str) -> str:
    """The session ``session_key`` rotates its key, as its request at a factor change does."""
    from twofactor_site.sessions import SessionStore

    store = SessionStore(session_key)
    store.load()
    store.cycle_key()
    store.save()
    return store.session_key


def test_reading_the_list_while_a_session_rotates_keeps_it_listed(monkeypatch, member):
    from accounts import user_sessions

    key, session_id = _two_sessions(member)
    read = user_sessions.sessions_data

    def rotation_between_the_two_reads(keys):
        keys = list(keys)
        _rotated(key)
        return read(keys)

    monkeypatch.setattr(user_sessions, "sessions_data", rotation_between_the_two_reads)
    user_sessions.sessions_of(member)
    monkeypatch.undo()
    listed = [s.id for s in user_sessions.sessions_of(member)]
    assert session_id in listed, "a live session fell off the list (and out of reach by id)"


def test_ending_a_session_while_it_rotates_ends_it_under_its_new_key(monkeypatch, member):
    from accounts import user_sessions
    from security.events import Audit
    from twofactor_site.sessions import SessionStore

    key, session_id = _two_sessions(member)
    validated = user_sessions._live_sessions
    new_key = {}

    def rotation_after_the_check(user):
        live = validated(user)
        new_key["key"] = _rotated(key)
        return live

    monkeypatch.setattr(user_sessions, "_live_sessions", rotation_after_the_check)
    audit = Audit(ip="127.0.0.1", user_agent="test")
    assert user_sessions.session_end_one(audit=audit, user=member, session_id=session_id)
    monkeypatch.undo()
    assert SessionStore(new_key["key"]).load() == {}, "the session went on under its new key"
    assert session_id not in [s.id for s in user_sessions.sessions_of(member)]
