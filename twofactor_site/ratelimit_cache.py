"""The rate limits' Redis client: a request is counted against a limit in one round trip.

django-ratelimit counts with two cache calls per limit: ``add(key, 1, window)`` (SET NX, for
the window's first request) and, when the key was already there, ``incr(key)``, which
django-redis runs as an EVAL of a Lua script sent in full each time (an EXISTS, then INCRBY).
Two round trips and a script for Redis to compile, per limit, per request; the password step
checks two limits, the code step two more.

Here an ``add`` of the count 1 is one script, sent by its digest once Redis has it (EVALSHA):
INCR the key and, when that INCR made it, give it the window as its lifetime. Its count is
kept, for this thread, for the ``incr`` of the same key that django-ratelimit makes next, which
then costs no round trip. The count is the same as before (the first request of a window is 1,
each next one adds 1) and every counter still expires with its window.

Only the "ratelimit" cache alias (RATELIMIT_USE_CACHE) uses this client, and only
django-ratelimit uses that alias; any other call is django-redis's own.
"""

from __future__ import annotations

import socket
import threading

from django_redis.client import DefaultClient
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

# KEYS[1] the counter; ARGV[1] its lifetime in milliseconds. The count after this request.
_COUNT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count
"""

_UNREACHABLE = (RedisConnectionError, RedisTimeoutError, socket.timeout)


class RateLimitClient(DefaultClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._counted = threading.local()
        self._script = None  # registered once; EVALSHA on whichever client a call uses

    def add(self, key, value, timeout=None, version=None, client=None):
        if type(value) is not int or value != 1 or not timeout or timeout <= 0:
            return super().add(key, value, timeout, version=version, client=client)
        if client is None:
            client = self.get_client(write=True)
        nkey = self.make_key(key, version=version)
        if self._script is None:
            self._script = client.register_script(_COUNT_SCRIPT)
        try:
            count = int(self._script(keys=[nkey], args=[int(timeout * 1000)], client=client))
        except _UNREACHABLE as error:
            raise ConnectionInterrupted(connection=client) from error
        if count == 1:
            return True  # the window's first request: counted, and that is the count
        self._counted.last = (nkey, count)
        return False

    def incr(self, key, delta=1, version=None, client=None, ignore_key_check=False):
        last = getattr(self._counted, "last", None)
        self._counted.last = None
        if last is not None and delta == 1 and last[0] == self.make_key(key, version=version):
            return last[1]  # counted by the add just before
        return super().incr(
            key, delta, version=version, client=client, ignore_key_check=ignore_key_check
        )
