"""The session store's key rotation, written by the request's save (twofactor_site.sessions):
the old key ends with it, on Redis and in local memory alike."""

from __future__ import annotations

import pytest
from django.contrib.sessions.exceptions import SessionInterrupted

from twofactor_site.sessions import SessionStore


def _saved(**data) -> SessionStore:
    store = SessionStore()
    store.update(data)
    store.save()
    return store


def test_a_rotated_key_is_written_by_the_save_and_the_old_one_ends_with_it(db):
    store = _saved(who="member")
    old = store.session_key
    store.cycle_key()
    new = store.session_key
    assert new != old
    assert SessionStore(old).load() == {"who": "member"}  # nothing written before the save
    store.save()
    assert SessionStore(new).load() == {"who": "member"}
    assert SessionStore(old).load() == {}
    stale = SessionStore(old)  # a request that loaded the old key before the rotation
    stale._session_cache = {"who": "member"}
    with pytest.raises(SessionInterrupted):
        stale.save()
    assert SessionStore(old).load() == {}


def test_a_request_that_never_saves_leaves_the_old_session_as_it_was(db):
    store = _saved(who="member")
    old = store.session_key
    store.cycle_key()
    store["more"] = 1  # ... and the request fails (a 500 is never saved)
    assert SessionStore(old).load() == {"who": "member"}
    assert SessionStore(store.session_key).load() == {}


def test_a_flush_after_a_rotation_ends_the_stored_key(db):
    store = _saved(who="member")
    old = store.session_key
    store.cycle_key()
    drawn = store.session_key
    store.flush()  # signed out in the same request
    assert SessionStore(old).load() == {}
    assert SessionStore(drawn).load() == {}
    stale = SessionStore(old)
    stale._session_cache = {"who": "member"}
    with pytest.raises(SessionInterrupted):
        stale.save()


def test_two_rotations_in_one_request_end_the_stored_key(db):
    store = _saved(who="member")
    old = store.session_key
    store.cycle_key()
    store.cycle_key()
    store.save()
    assert SessionStore(old).load() == {}
    assert SessionStore(store.session_key).load() == {"who": "member"}


def test_a_rotation_of_a_session_ended_meanwhile_is_refused(db):
    store = _saved(who="member")
    old = store.session_key
    store.cycle_key()
    SessionStore().delete(old)  # a logout elsewhere, before this request's save
    with pytest.raises(SessionInterrupted):
        store.save()
    assert SessionStore(store.session_key).load() == {}
    assert SessionStore(old).load() == {}
