"""Who is asking (the client's address, believing X-Forwarded-For only from our proxies, and
what their browser is called), and where they may be sent next."""

from __future__ import annotations

import functools
import ipaddress
from urllib.parse import urlsplit

import ua_parser
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


# ua-parser's family names, shortened to what a person calls their browser and system.
_BROWSER_NAMES = {
    "HeadlessChrome": "Chrome",
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Chrome",
    "Mobile Safari": "Safari",
    "Mobile Safari UI/WKWebView": "Safari",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Edge Mobile": "Edge",
    "Opera Mobile": "Opera",
    "Samsung Internet": "Samsung Internet",
}
_SYSTEM_NAMES = {"Mac OS X": "macOS", "Chrome OS": "ChromeOS"}


@functools.lru_cache(maxsize=512)
def device_name(user_agent: str) -> str:
    """ "Chrome on Linux", "Safari on iPhone": enough for a person to recognise their own
    browser, in emails and in the security log alike (and for naming trusted browsers).
    Parsed by ua-parser, whose rules follow new browsers; "" when nothing is known."""
    if not user_agent:
        return ""
    result = ua_parser.parse(user_agent[:USER_AGENT_MAX])
    family = result.user_agent.family if result.user_agent else ""
    if family in ("", "Other"):
        family = ""
    browser = _BROWSER_NAMES.get(family, family)
    device = result.device.family if result.device else ""
    system = result.os.family if result.os else ""
    if device in ("iPhone", "iPad"):
        where = device
    elif system and system != "Other":
        where = _SYSTEM_NAMES.get(system, system)
    else:
        where = ""
    if browser and where:
        return f"{browser} on {where}"
    return browser or (f"A browser on {where}" if where else "")


def _scheme(url: str) -> str:
    try:
        return urlsplit(url).scheme.lower()
    except ValueError:  # "http://[": an unbalanced IPv6 bracket
        return ""


def safe_next(request: HttpRequest, candidate: str | None) -> str:
    """``candidate`` when it stays on this site, else the empty string. Only a path
    (``/...``) or an http(s) URL of this host: a bare word such as ``-1`` passes Django's
    check, but ``redirect()`` would read it as a URL pattern name (NoReverseMatch, a 500)."""
    if not candidate or not (candidate.startswith("/") or _scheme(candidate) in ("http", "https")):
        return ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def requested_next(request: HttpRequest) -> str:
    """The ``next`` this request asks for (posted, else in the query string), when safe."""
    return safe_next(request, request.POST.get("next") or request.GET.get("next"))
