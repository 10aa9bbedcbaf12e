"""What a server writes on the wire: a refusal's Content-Length matches its body, and a
Content-Length that is not a number is a clear 400, never a 500. The test client ignores
framing, so each property is also checked through a real server (runserver's, via
pytest-django's live server), reading the raw bytes."""

from __future__ import annotations

import socket
from http import HTTPStatus
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

GET_ONLY = "/login/link/sometoken/"  # accounts.views.login_link_token: @require_safe
POST_ONLY = "/login/cancel/"  # accounts.views.login_cancel: @require_POST


def _assert_framed(response) -> None:
    assert int(response["Content-Length"]) == len(response.content), (
        response["Content-Length"],
        len(response.content),
    )


def _assert_clear_page(response) -> None:
    body = response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    assert "<h1" in body
    assert "Traceback" not in body


@pytest.mark.parametrize(
    "method, path, allowed",
    [(method, GET_ONLY, "GET, HEAD") for method in ("PUT", "DELETE", "OPTIONS", "TRACE", "PATCH")]
    + [("GET", POST_ONLY, "POST")],
)
def test_method_not_allowed_page_has_its_real_length(db, method, path, allowed):
    response = Client(raise_request_exception=False).generic(method, path)
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response["Allow"] == allowed
    _assert_clear_page(response)
    _assert_framed(response)


def test_head_refusal_keeps_an_empty_body(db):
    response = Client(raise_request_exception=False).head(POST_ONLY)
    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response.content == b""


@pytest.mark.parametrize("value", ["abc", "-5", "+5", "1e3", "5 5", "0x10", "５"])
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_content_length_not_a_number_is_refused(db, method, value):
    response = Client(raise_request_exception=False).generic(
        method,
        reverse("accounts:login"),
        b"email=a%40acme.test",
        content_type="application/x-www-form-urlencoded",
        CONTENT_LENGTH=value,
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    _assert_clear_page(response)
    assert "That request could not be read" in response.content.decode()


def test_content_length_digits_still_accepted(db):
    """The control: an ordinary form post, with its real length, is read as usual."""
    response = Client().post(reverse("accounts:password-reset"), {"email": "nobody@acme.test"})
    assert response.status_code == HTTPStatus.FOUND


# --- On the wire -----------------------------------------------------------------------------


def _raw(url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` as written; read the answer to the end (HTTP/1.0: the server closes)."""
    address = urlsplit(url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


@pytest.mark.parametrize(
    ("method", "path"), [("OPTIONS", GET_ONLY), ("TRACE", GET_ONLY), ("GET", POST_ONLY)]
)
def test_method_not_allowed_on_the_wire_is_framed(live_server, transactional_db, method, path):
    request = f"{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode()
    status, headers, body = _raw(live_server.url, request)
    assert status == HTTPStatus.METHOD_NOT_ALLOWED
    assert int(headers["content-length"]) == len(body) > 0
    assert b"<h1" in body


def test_content_length_not_a_number_on_the_wire_is_400(live_server, transactional_db):
    body = b"email=a%40acme.test&password=x"
    request = (
        b"POST /login/ HTTP/1.0\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: abc\r\n\r\n" + body
    )
    status, headers, page = _raw(live_server.url, request)
    assert status == HTTPStatus.BAD_REQUEST
    assert b"That request could not be read" in page
    assert b"Traceback" not in page
