"""Where a member is signed in: their sessions listed, and ended one at a time, everywhere
else, or (by an admin) everywhere.

A session is named by the random id it got at sign-in (accounts.presence.signed_in_now),
never by its key. The list is read from the sessions themselves in the store: started,
last seen (the idle-lifetime time the middleware already records, at most once a minute),
IP and browser. Listed are only sessions that would still sign their next request in: of
this member, with the member's current auth hash (a factor change or "sign out everywhere"
rotated it: accounts.services.user_sessions_end), within their lifetimes.

Ending one session is a logout of it (twofactor_site.sessions.member_session_end: tombstoned
and deleted at once, so its next request is signed out in whatever process it lands). Ending
all of them rotates the security stamp, as every factor change does.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.models import User
from accounts.presence import (
    SIGNED_IN_AT_SESSION_KEY,
    SIGNED_IN_FROM_SESSION_KEY,
    session_last_seen,
    session_lifetime_over,
)
from accounts.services import user_sessions_end
from security.events import NO_AUDIT, Audit, Kind, event_record
from twofactor_site.net import device_name
from twofactor_site.sessions import (
    SESSION_ID_SESSION_KEY,
    member_session_end,
    member_sessions_forget,
    member_sessions_get,
    sessions_data,
)


@dataclass(frozen=True)
class SignedInSession:
    id: str
    browser: str
    ip: str
    started: datetime.datetime
    last_seen: datetime.datetime
    current: bool


def _when(timestamp: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.timezone.utc)


def _auth_hashes(user: User) -> list[str]:
    """The auth hashes a session of ``user`` may carry: Django also accepts those made with
    a SECRET_KEY_FALLBACKS key."""
    hashes = [user.get_session_auth_hash()]
    for secret in settings.SECRET_KEY_FALLBACKS:
        hashes.append(user._get_session_auth_hash(secret=secret))
    return hashes


def _signs_in(data: dict, *, user: User, session_id: str, hashes: list[str], now: float) -> bool:
    """Whether the session ``data`` would sign its next request in as ``user``."""
    session_hash = data.get(HASH_SESSION_KEY) or ""
    return (
        data.get(SESSION_KEY) == str(user.pk)
        and data.get(SESSION_ID_SESSION_KEY) == session_id
        and any(constant_time_compare(session_hash, h) for h in hashes)
        and not session_lifetime_over(data, now=now)
    )


def _live_sessions(user: User) -> dict[str, tuple[str, dict]]:
    """{session id: (session key, data)} of the sessions ``user`` is signed in with; the
    entries of the others are forgotten. Two reads of the store."""
    index = member_sessions_get(user_id=user.pk)
    if not index:
        return {}
    found = sessions_data(index.values())
    hashes, now = _auth_hashes(user), timezone.now().timestamp()
    live, gone = {}, {}
    for session_id, key in index.items():
        data = found.get(key)
        if data is not None and _signs_in(
            data, user=user, session_id=session_id, hashes=hashes, now=now
        ):
            live[session_id] = (key, data)
        else:
            gone[session_id] = key
    member_sessions_forget(user_id=user.pk, entries=gone)
    return live


def _browser(data: dict) -> str:
    _ip, user_agent = (data.get(SIGNED_IN_FROM_SESSION_KEY) or ["", ""])[:2]
    return device_name(user_agent)


def sessions_of(user: User, *, current_id: str | None = None) -> list[SignedInSession]:
    """Where ``user`` is signed in, the session ``current_id`` first, then the most recently
    used."""
    listed = []
    for session_id, (_key, data) in _live_sessions(user).items():
        ip, _user_agent = (data.get(SIGNED_IN_FROM_SESSION_KEY) or ["", ""])[:2]
        listed.append(
            SignedInSession(
                id=session_id,
                browser=_browser(data),
                ip=ip or "",
                started=_when(data.get(SIGNED_IN_AT_SESSION_KEY, 0)),
                last_seen=_when(session_last_seen(data)),
                current=session_id == current_id,
            )
        )
    listed.sort(key=lambda s: (not s.current, -s.last_seen.timestamp()))
    return listed


def session_end_one(*, audit: Audit, user: User, session_id: str) -> bool:
    """Sign ``user``'s session ``session_id`` out: its next request, in any process, is
    signed out. False (and nothing happens) when ``user`` has no such session, whoever's
    id it is."""
    found = _live_sessions(user).get(session_id)
    if found is None:
        return False
    key, data = found
    member_session_end(user_id=user.pk, session_id=session_id, session_key=key)
    event_record(kind=Kind.SESSION_ENDED, audit=audit, user=user, browser=_browser(data))
    return True


def other_sessions_end(*, audit: Audit, user: User) -> None:
    """Sign ``user`` out everywhere but here: the caller re-attaches the current session
    (accounts.presence.session_reattach), as after a factor change."""
    with transaction.atomic():
        user_sessions_end(user=user)
        event_record(kind=Kind.OTHER_SESSIONS_ENDED, audit=audit, user=user)


def member_sessions_end(*, audit: Audit, member: User, by: User | None) -> None:
    """An Account Admin (or support) signs ``member`` out everywhere."""
    with transaction.atomic():
        user_sessions_end(user=member)
        event_record(kind=Kind.ALL_SESSIONS_ENDED, audit=audit, user=member, actor=by)


_DEACTIVATION_ATTR = "_twofactor_deactivated_by"


def member_deactivation_describe(member: User, *, audit: Audit, by: User) -> None:
    """Who turns ``member`` inactive with the next save of this instance (the admin's page):
    the security event names them."""
    setattr(member, _DEACTIVATION_ATTR, (audit, by))


def user_saved(sender, instance: User, raw: bool = False, **kwargs) -> None:
    """post_save of User (connected in accounts.signals): a member turned inactive, by any
    path that saves the row, is signed out everywhere and trusted by no browser, as removal
    does, so turning them back on later brings back no session and no trust."""
    if raw or not getattr(instance, "deactivated", False):
        return
    instance.deactivated = False
    audit, by = getattr(instance, _DEACTIVATION_ATTR, None) or (NO_AUDIT, None)
    setattr(instance, _DEACTIVATION_ATTR, None)
    member_sessions_end(audit=audit, member=instance, by=by)
