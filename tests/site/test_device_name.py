"""twofactor_site.net.device_name: the browser as a person names it, in emails and the log."""

import pytest

from security.models import SecurityEvent
from twofactor_site.net import device_name

CHROME_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


@pytest.mark.parametrize(
    "user_agent, expected",
    [
        (CHROME_LINUX, "Chrome on Linux"),
        (CHROME_LINUX.replace("Chrome/", "HeadlessChrome/"), "Chrome on Linux"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
            "Safari on iPhone",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
            "Firefox on Windows",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0",
            "Edge on macOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        ("curl/8.4.0", "curl"),
        ("", ""),
    ],
)
def test_device_name_reads_like_a_person_would_say_it(user_agent, expected):
    assert device_name(user_agent) == expected


def test_device_name_of_garbage_is_empty_or_plain_never_an_error():
    for junk in ("\x00\x01", "x" * 5000, "Mozilla/5.0 (", "😀"):
        assert isinstance(device_name(junk), str)


def test_security_event_shows_the_device_not_the_raw_string():
    event = SecurityEvent(kind=SecurityEvent.Kind.SIGN_IN, user_agent=CHROME_LINUX)
    assert event.device == "Chrome on Linux"


def test_sign_in_link_email_names_the_browser(client, member, mailoutbox):
    client.post(
        "/login/",
        {"email": member.email, "password": "correct horse battery staple"},
        HTTP_USER_AGENT=CHROME_LINUX,
    )
    assert "Browser: Chrome on Linux" in mailoutbox[-1].body


def test_security_log_pages_show_the_device(signed_in, member):
    SecurityEvent.objects.filter(user=member).update(user_agent=CHROME_LINUX)
    page = signed_in.get("/settings/personal/").content.decode()
    assert "Chrome on Linux" in page
    assert "Mozilla/5.0" not in page
