"""Sessions in the shared cache: a cache that is down is an error, not an empty session, and
a session that ended stays ended, whatever requests race its end.

Down: Django's cache backend reads a session that it cannot load as empty, so during a Redis
outage every signed-in member would be treated as signed out and their session cookie
deleted. Here a connection error propagates, the request answers 503 "try again shortly"
(twofactor_site.views.server_error), and the same session goes on once Redis is back.

Ended for good: Django's backend saves by reading the key and then writing it, two commands.
A request that loaded the session before a logout (the same cookie used at the same moment
elsewhere: a thief's copy) could pass the read just before the logout's delete and write the
whole session back after it, signed in again; or rotate the key (``cycle_key``, as at a factor
change) and carry the signed-in data into a brand-new session id. Here, on Redis:

- ending a session (logout, flush) writes a *tombstone* for its id and deletes it, in one
  MULTI; the tombstone lives as long as the session could have (``SESSION_COOKIE_AGE``);
- saving writes only if the session still exists and has no tombstone, in one Lua script;
- a new key made from an old one (``cycle_key``) is created only if the old one has no
  tombstone, and the old one is ended, in the same script.

A key rotation costs no round trip of its own: ``cycle_key`` draws the new key at once (the
request can read it) and the save at the end of the request creates it, ends the old one and
lists the session, in that one script. Django's backend writes the new key, deletes the old
one and saves again, three round trips (four with the listing); a sign-in now costs one. A
request that fails before its save (a 500) leaves the old session as it was, and the key it
would have had is never written.

A refused write raises Django's ``SessionInterrupted`` (a 400 page: "signed out in another
window"); nothing is written. The local-memory cache of ``make run`` gets the same rules
under a process lock (one process: nothing else can race it).

This changes only *how* a write happens, never *when*: the session middleware still decides
whether to save (compatible with saving less often, e.g. throttled last-seen writes).

Whose sessions: each signed-in session carries a random id of its own
(``SESSION_ID_SESSION_KEY``, written at sign-in by accounts.user_sessions), and each member
has one hash in the store, {session id: session key}, so that "where you're signed in" can be
listed and one session ended by its id; pages and forms name a session by that id, never by
its key. It is written in the save script of the request that signs in (``listed``) and of
a key rotation, which moves the entry to the new key; ordinary requests never touch it.
Entries of sessions that ended by themselves are dropped when the list is read.
"""

from __future__ import annotations

import base64
import secrets
import threading

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import CreateError
from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore
from django.contrib.sessions.exceptions import SessionInterrupted
from django.core.cache import caches

from twofactor_site.views import SERVICE_ERRORS

TOMBSTONE_PREFIX = "twofactor.sessions.ended:"
# A member's sessions: {session id: session key}, one hash per user id.
SESSIONS_OF_PREFIX = "twofactor.sessions.of:"
# The random id a signed-in session is named by in pages, forms and the security log.
SESSION_ID_SESSION_KEY = "twofactor_session_id"

# KEYS: [1] the session, [2] its tombstone, [3] the tombstone of the key it was cycled from
# (or [2] again), [4] that key's session (or [1] again), [5] the member's sessions hash (or [1]
# again). ARGV: [1] the encoded session, [2] its TTL in seconds, [3] "create" or "update",
# [4] how long a tombstone lives, [5] the session's id in [5] ("" for no entry), [6] how long
# that hash lives, [7] the session key, as the hash holds it.
# Answers 1: written; 0: refused (ended, or gone); -1: the new key is taken.
_SAVE_SCRIPT = """
if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('EXISTS', KEYS[3]) == 1 then
  return 0
end
if ARGV[3] == 'create' then
  if not redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2], 'NX') then return -1 end
  if KEYS[4] ~= KEYS[1] then
    redis.call('SET', KEYS[3], '1', 'EX', ARGV[4])
    redis.call('DEL', KEYS[4])
  end
elseif not redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2], 'XX') then
  return 0
end
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[5], ARGV[5], ARGV[7])
  redis.call('EXPIRE', KEYS[5], ARGV[6])
end
return 1
"""

_local_lock = threading.Lock()


def _tombstone_ttl() -> int:
    """How long an ended session's tombstone lives: as long as the session could have, so no
    request that loaded it can outlast it."""
    return max(int(settings.SESSION_COOKIE_AGE), 1)


def _listing_ttl() -> int:
    """How long a member's list of sessions lives: as long as a session signed in now can."""
    return int(settings.SESSION_ABSOLUTE_HOURS * 3600)


def session_key_new() -> str:
    """32 characters of Django's session key alphabet (lowercase letters and digits) carrying
    160 random bits: base32 of 20 bytes from the OS, one call, where Django's
    ``get_random_string`` makes 32 (each a draw from ``secrets``)."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii").lower()


def _interrupted() -> SessionInterrupted:
    return SessionInterrupted(
        "The session ended (signed out in another window) before this request could save it."
    )


class SessionStore(CacheSessionStore):
    # Set by cycle_key until the save: the key this session had when the request loaded it
    # (ended by the save that creates the new one), and that the new key is still to create.
    _cycled_from: str | None = None
    _create_pending = False
    # The save lists the session among its member's sessions (signed in, or key rotated).
    _list_pending = False

    # --- Reading -----------------------------------------------------------------------------

    def load(self) -> dict:
        try:
            session_data = self._cache.get(self.cache_key)
        except SERVICE_ERRORS:
            raise
        except Exception:  # a key the cache refuses, as Django's own backend allows for
            session_data = None
        if session_data is not None:
            return session_data
        self._session_key = None
        return {}

    # --- Writing -----------------------------------------------------------------------------

    def _get_new_session_key(self) -> str:
        """A random key, without Django's EXISTS round trip first: the create below writes
        only where no session is (SET NX), and another key is drawn when it is taken, so a
        collision can never join two sessions."""
        return session_key_new()

    def cycle_key(self) -> None:
        """A new key for the same data (sign-in, factor change), known at once and written by
        this request's save, which also ends the old key: refused, as a save is, when the old
        key was ended meanwhile."""
        data = self._get_session()
        if not self._create_pending:  # cycled twice in a request: the first key is stored
            self._cycled_from = self.session_key
        self._session_cache = data
        self._session_key = self._get_new_session_key()
        self._create_pending = True
        self._list_pending = True  # a listed session stays listed, under its new key
        self.modified = True

    def listed(self) -> None:
        """This request signed the session in: its save lists it among its member's sessions
        (by its SESSION_ID_SESSION_KEY)."""
        self._list_pending = True
        self.modified = True

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        create = must_create or self._create_pending
        data = self._get_session(no_load=create)
        while (result := self._write(data, create=create)) == -1:
            if not self._create_pending:
                raise CreateError  # the new random key is taken: create() tries another
            self._session_key = self._get_new_session_key()
        if result == 0:
            raise _interrupted()
        self._pending_clear()
        return None

    def _pending_clear(self) -> None:
        self._cycled_from = None
        self._create_pending = self._list_pending = False

    def delete(self, session_key: str | None = None) -> None:
        if session_key is None:
            # This session (a flush): the key it was loaded with ends, whether or not a new
            # one was drawn for it since; a drawn key was never written.
            stored = self._cycled_from if self._create_pending else self.session_key
            self._pending_clear()
            if stored is not None:
                self._end(stored)
            return
        self._end(session_key)

    # The async API (unused under WSGI) takes the same paths.
    async def asave(self, must_create: bool = False) -> None:
        return await sync_to_async(self.save)(must_create)

    async def adelete(self, session_key: str | None = None) -> None:
        return await sync_to_async(self.delete)(session_key)

    async def acycle_key(self) -> None:
        return await sync_to_async(self.cycle_key)()

    # --- The atomic part ---------------------------------------------------------------------

    def _tombstone_key(self, session_key: str) -> str:
        return TOMBSTONE_PREFIX + session_key

    def _redis(self):
        return _redis_client(self._cache)

    def _list_entry(self, data: dict) -> tuple[str, str] | None:
        """(user id, session id) when this save lists the session, else None."""
        if not self._list_pending or not data.get(SESSION_KEY):
            return None
        session_id = data.get(SESSION_ID_SESSION_KEY)
        return (str(data[SESSION_KEY]), session_id) if session_id else None

    def _write(self, data: dict, *, create: bool) -> int:
        ttl = max(int(self.get_expiry_age()), 1)
        tombstone = self._tombstone_key(self.session_key)
        cycled = self._cycled_from if create else None
        cycled_tombstone = self._tombstone_key(cycled) if cycled else tombstone
        cycled_key = self.cache_key_prefix + cycled if cycled else self.cache_key
        entry = self._list_entry(data)
        listing = SESSIONS_OF_PREFIX + entry[0] if entry else self.cache_key
        client = self._redis()
        if client is not None:
            raw = client.get_client(write=True)
            script = raw.register_script(_SAVE_SCRIPT)  # EVALSHA, loading it when needed
            keys = [
                client.make_key(k)
                for k in (self.cache_key, tombstone, cycled_tombstone, cycled_key, listing)
            ]
            args = [
                client.encode(data, allow_int=False),
                ttl,
                "create" if create else "update",
                _tombstone_ttl(),
                entry[1] if entry else "",
                _listing_ttl(),
                self.session_key,
            ]
            return int(script(keys=keys, args=args))
        with _local_lock:
            if self._cache.get(tombstone) is not None or self._cache.get(cycled_tombstone):
                return 0
            if create:
                if not self._cache.add(self.cache_key, data, ttl):
                    return -1
                if cycled:
                    self._cache.set(cycled_tombstone, 1, _tombstone_ttl())
                    self._cache.delete(cycled_key)
            elif self._cache.get(self.cache_key) is None:
                return 0
            else:
                self._cache.set(self.cache_key, data, ttl)
            if entry:
                sessions = dict(self._cache.get(listing) or {})
                sessions[entry[1]] = self.session_key
                self._cache.set(listing, sessions, _listing_ttl())
            return 1

    def _end(self, session_key: str) -> None:
        """Tombstone and delete ``session_key`` at once."""
        ttl = _tombstone_ttl()
        key = self.cache_key_prefix + session_key
        client = self._redis()
        if client is not None:
            pipe = client.get_client(write=True).pipeline(transaction=True)
            pipe.set(client.make_key(self._tombstone_key(session_key)), b"1", ex=ttl)
            pipe.delete(client.make_key(key))
            pipe.execute()
            return
        with _local_lock:
            self._cache.set(self._tombstone_key(session_key), 1, ttl)
            self._cache.delete(key)


# --- Whose sessions ---------------------------------------------------------------------------


def _redis_client(cache):
    """The client of a django-redis cache, or None for another backend."""
    client = getattr(cache, "client", None)
    if client is None or not hasattr(client, "get_client"):
        return None
    return client


def _store_cache():
    return caches[settings.SESSION_CACHE_ALIAS]


def _raw(cache):
    client = _redis_client(cache)
    return client, client.get_client(write=True) if client is not None else None


def member_sessions_get(*, user_id) -> dict[str, str]:
    """{session id: session key} of user ``user_id``, ended ones included until forgotten."""
    cache = _store_cache()
    key = SESSIONS_OF_PREFIX + str(user_id)
    client, raw = _raw(cache)
    if client is not None:
        found = raw.hgetall(client.make_key(key))
        return {k.decode(): v.decode() for k, v in found.items()}
    return dict(cache.get(key) or {})


# KEYS[1] a member's sessions hash; ARGV: session id, the key it was read with, in pairs.
_FORGET_SCRIPT = """
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
return 1
"""

# KEYS: [1] a member's sessions hash, [2] a session, [3] its tombstone. ARGV: [1] the session's
# id, [2] its key, [3] how long a tombstone lives. 1: ended; 0: the entry names another key.
_END_ONE_SCRIPT = """
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[3], '1', 'EX', ARGV[3])
redis.call('DEL', KEYS[2])
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
"""


def member_sessions_forget(*, user_id, entries: dict[str, str]) -> None:
    """Drop ``entries`` ({session id: the key it was read with}) from user ``user_id``'s list,
    each only while it still names that key: a session whose key rotated since it was read
    (the rotation moves its entry) stays listed under its new key."""
    if not entries:
        return
    cache = _store_cache()
    key = SESSIONS_OF_PREFIX + str(user_id)
    client, raw = _raw(cache)
    if client is not None:
        pairs = [part for entry in entries.items() for part in entry]
        raw.register_script(_FORGET_SCRIPT)(keys=[client.make_key(key)], args=pairs)
        return
    with _local_lock:
        sessions = dict(cache.get(key) or {})
        for session_id, session_key in entries.items():
            if sessions.get(session_id) == session_key:
                del sessions[session_id]
        cache.set(key, sessions, _listing_ttl())


def member_session_end(*, user_id, session_id: str, session_key: str) -> None:
    """End user ``user_id``'s session ``session_id``, read as ``session_key``, as a logout
    does, and drop its entry: under the key its entry names when this runs, since a rotation
    between the read and now moved the session (and its entry) to a new key, and ended the old
    one. Atomic with that rotation's save: either the rotation ran first and its new key is
    ended here, or this ran first and the rotation's save is refused by the tombstone."""
    cache = _store_cache()
    key = SESSIONS_OF_PREFIX + str(user_id)
    store = SessionStore()
    client, raw = _raw(cache)
    if client is None:
        with _local_lock:
            sessions = dict(cache.get(key) or {})
            named = sessions.pop(session_id, None)
            cache.set(key, sessions, _listing_ttl())
        for stale in {session_key, named} - {None}:
            store.delete(stale)
        return
    script = raw.register_script(_END_ONE_SCRIPT)
    ttl = _tombstone_ttl()
    for _ in range(8):  # each miss means the session rotated again meanwhile
        keys = [
            client.make_key(k)
            for k in (key, store.cache_key_prefix + session_key, TOMBSTONE_PREFIX + session_key)
        ]
        if script(keys=keys, args=[session_id, session_key, ttl]) == 1:
            return
        named = raw.hget(client.make_key(key), session_id)
        if named is None:
            break  # no entry names it any more: end the key as it was read
        session_key = named.decode()
    store.delete(session_key)


def sessions_data(session_keys) -> dict[str, dict]:
    """{session key: its data} of those of ``session_keys`` that still exist, in one read."""
    store = SessionStore()
    prefix = store.cache_key_prefix
    found = store._cache.get_many([prefix + key for key in session_keys])
    return {cache_key.removeprefix(prefix): data for cache_key, data in found.items()}
