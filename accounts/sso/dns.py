"""Domain verification: read a domain's TXT records with dnspython, from the resolver named by
TWOFACTOR_SSO_DNS_RESOLVER (the system's when empty)."""

from __future__ import annotations

from urllib.parse import urlsplit

import dns.exception
import dns.resolver
from django.conf import settings


class LookupFailed(Exception):
    """The DNS server could not be asked, or did not answer in time."""


def _resolver() -> dns.resolver.Resolver:
    address = settings.TWOFACTOR_SSO_DNS_RESOLVER
    if not address:
        resolver = dns.resolver.Resolver()
    else:
        parts = urlsplit(f"dns://{address}")  # settings checked it is IP[:port]
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [parts.hostname]
        resolver.port = parts.port or 53
    resolver.lifetime = settings.TWOFACTOR_SSO_TIMEOUT_SECONDS
    resolver.timeout = settings.TWOFACTOR_SSO_TIMEOUT_SECONDS
    return resolver


def txt_records(domain: str) -> list[str]:
    """Every TXT string at ``domain`` (each record's strings joined, as RFC 7208 3.3 does). An
    empty list when the domain has none or does not exist."""
    try:
        answer = _resolver().resolve(domain, "TXT", search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except (dns.exception.Timeout, dns.resolver.NoNameservers, dns.resolver.LifetimeTimeout):
        raise LookupFailed(domain) from None
    except dns.exception.DNSException:
        raise LookupFailed(domain) from None
    return [
        b"".join(record.strings).decode("utf-8", "replace")
        for record in answer
        if hasattr(record, "strings")
    ]
