"""A browser for a server of ours on the loopback, over plain HTTP: used by `make bench-load`
and by the tests that run the app in real processes (tests/hardening/test_processes.py).

Cookies and CSRF by hand: the production cookies are Secure and this is plain HTTP on the
loopback, where a real cookie jar would not send them.
"""

from __future__ import annotations

import http.client
import time
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlencode

LOOPBACK = "127.0.0.1"


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: str
    seconds: float  # from sending the request to the last byte of the answer


class LoopbackBrowser:
    def __init__(self, *, user_agent: str, timeout: float = 30) -> None:
        self.user_agent = user_agent
        self.timeout = timeout
        self.cookies: dict[str, str] = {}

    def send(self, port: int, method: str, path: str, form: dict | None = None) -> Response:
        """One request; a form is posted with the CSRF token of the cookie this browser holds."""
        headers = {"Host": f"{LOOPBACK}:{port}", "User-Agent": self.user_agent}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode({**form, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        connection = http.client.HTTPConnection(LOOPBACK, port, timeout=self.timeout)
        try:
            connection.request(method, path, body, headers)
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        seconds = time.perf_counter() - started
        self._keep_cookies(response.headers)
        return Response(response.status, response.headers, content.decode("utf-8", "replace"),
                        seconds)

    def _keep_cookies(self, headers: http.client.HTTPMessage) -> None:
        for header in headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
