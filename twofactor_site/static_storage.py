"""Static files storages whose ``url()`` is worked out once per name and process.

Every ``{% static %}`` on every page asks the storage for the file's address: for the
manifest storage of production that is a manifest lookup, two URL splits, a join and an
unquote each time, for an answer that cannot change while the process runs (the manifest is
read once, at start). Both storages remember the answer per name; a name that is not in the
manifest still raises each time, as Django's does.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.staticfiles.storage import StaticFilesStorage as DjangoStaticFilesStorage
from whitenoise.storage import CompressedManifestStaticFilesStorage

# Far more than the static files a site has: a template that built names from input could
# not grow the memo without bound.
_MEMO_MAX = 1024


class _UrlMemo:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._urls: dict[tuple[str, bool], str] = {}

    def url(self, name, *args, **kwargs):
        if args or kwargs:  # force=...: Django's own path, unremembered
            return super().url(name, *args, **kwargs)
        key = (name, settings.DEBUG)  # the manifest storage answers unhashed names in DEBUG
        try:
            return self._urls[key]
        except KeyError:
            url = super().url(name)
            if len(self._urls) < _MEMO_MAX:
                self._urls[key] = url
            return url


class StaticFilesStorage(_UrlMemo, DjangoStaticFilesStorage):
    """``make run`` and the tests: files served under their own names."""


class ManifestStaticFilesStorage(_UrlMemo, CompressedManifestStaticFilesStorage):
    """Production: whitenoise's compressed, hashed names (served as immutable)."""
