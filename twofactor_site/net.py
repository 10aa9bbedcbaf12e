"""Who is asking (the client's address, believing X-Forwarded-For only from our proxies), and
where they may be sent next."""

from __future__ import annotations

import functools
import ipaddress

from django.conf import settings
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

USER_AGENT_MAX = 300


@functools.lru_cache(maxsize=4)
def _networks(
    trusted: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _trusted(address, networks) -> bool:
    return any(address in network for network in networks)


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, unless it is a configured proxy: then the right-most X-Forwarded-For
    entry that is not itself a configured proxy. A client cannot spoof its way past this,
    because entries it adds stand left of the ones our proxies append."""
    remote = _parse(request.META.get("REMOTE_ADDR", "")) or ipaddress.ip_address("0.0.0.0")  # noqa: S104
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if not networks or not _trusted(remote, networks):
        return str(remote)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for entry in reversed(forwarded.split(",")):
        address = _parse(entry)
        if address is None:
            break
        if not _trusted(address, networks):
            return str(address)
        remote = address
    return str(remote)


def user_agent(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX]


def browser_summary(ua: str) -> str:
    """ "Firefox on Linux": enough for a person to recognise their own request."""
    browsers = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Safari/", "Safari"),
    ]
    systems = [
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Android", "Android"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    browser = next((name for marker, name in browsers if marker in ua), "an unknown browser")
    system = next((name for marker, name in systems if marker in ua), "")
    return f"{browser} on {system}" if system else browser


def safe_next(request: HttpRequest, candidate: str | None) -> str:
    """``candidate`` when it stays on this site, else the empty string."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""
