"""The security log, on the Security page and in personal settings, names the browser as a
person does ("Chrome on Linux") and the way a sign-in was made in words: never a raw
user-agent string or an internal method name."""

import pytest
from django.urls import reverse

from security.events import Audit, event_record
from security.models import SecurityEvent

CHROME_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_ON_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
METHODS = {
    "email_link": "Signed in (email link)",
    "totp": "Signed in (authenticator app)",
    "recovery_code": "Signed in (recovery code)",
    "passkey": "Signed in (passkey)",
    "invitation": "Signed in (from the invitation)",
    "sso": "Signed in (single sign-on)",
}


@pytest.fixture
def logged(member):
    SecurityEvent.objects.all().delete()
    for method in METHODS:
        event_record(
            kind=SecurityEvent.Kind.SIGN_IN,
            audit=Audit(ip="203.0.113.7", user_agent=CHROME_ON_WINDOWS),
            user=member,
            method=method,
        )
    event_record(
        kind=SecurityEvent.Kind.PASSWORD_FAILED,
        audit=Audit(ip="203.0.113.8", user_agent=SAFARI_ON_IPHONE),
        user=member,
    )


def _log_of(html: str) -> str:
    return html[html.index('<table class="events') : html.index("</table>", html.index("events"))]


@pytest.mark.parametrize("page", ["personal", "security"])
def test_security_log_names_browsers_and_methods_in_words(page, logged, signed_in, admin_client):
    client = signed_in if page == "personal" else admin_client
    log = _log_of(client.get(reverse(f"security:{page}")).content.decode())
    assert "Chrome on Windows" in log
    assert "Safari on iPhone" in log
    assert "Mozilla/5.0" not in log and "AppleWebKit" not in log
    for method, words in METHODS.items():
        assert words in log, method
    assert "(sso)" not in log and "(invitation)" not in log
