"""Sessions in the shared cache, but a cache that is down is an error, not an empty session.

Django's cache backend reads a session that it cannot load as empty: during a Redis outage
every signed-in member would be treated as signed out and their session cookie deleted.
Here a connection error propagates, the request answers 503 "try again shortly"
(twofactor_site.views.server_error), and the same session goes on once Redis is back.
"""

from __future__ import annotations

from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore

from twofactor_site.views import SERVICE_ERRORS


class SessionStore(CacheSessionStore):
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
