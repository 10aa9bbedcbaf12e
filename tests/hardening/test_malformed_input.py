"""Malformed input to every form gets a 4xx and a clear page, never a 500 or a traceback.

Each form is reached in the state it needs (a pending login, a signed-in member, an
enrollment in progress, an admin...), through a client that enforces CSRF as a browser does
and turns exceptions into responses, so a crash shows up as a 500."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.services import member_add
from security.totp import services as totp_services
from tests.conftest import (
    PASSWORD,
    current_code,
    enroll_totp,
    link_from_outbox,
    password_step,
    path_of,
    sign_in_with_link,
)
from tests.hardening.conftest import browser, csrf_headers

FULL_WIDTH_DIGITS = "１２３４５６"
NEW_PASSWORD = "a new long passphrase 42"


@dataclass
class Form:
    client: Client
    path: str
    data: dict[str, str]
    # Fields that hold a code: full-width digits and two values must be refused there.
    code_fields: list[str] = field(default_factory=list)


def _signed_in(user) -> Client:
    client = Client()
    sign_in_with_link(client, user.email)
    return client


def _signed_in_with_code(user) -> Client:
    client = Client()
    password_step(client, user.email)
    client.post(reverse("accounts:login-code"), {"code": current_code(user.totp_secret)})
    return client


def _confirm_path(client: Client, route: str, user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    from accounts.tokens import invitation_tokens, password_reset_tokens

    generator = invitation_tokens if route == "accounts:invite-accept" else password_reset_tokens
    token = generator.make_token(user)
    response = client.get(reverse(route, args=[uid, token]))
    assert response.status_code == HTTPStatus.FOUND, response
    return response.url


def login(request) -> Form:
    member = request.getfixturevalue("member")
    return Form(Client(), reverse("accounts:login"), {"email": member.email, "password": PASSWORD})


def resend(request) -> Form:
    client = Client()
    password_step(client, request.getfixturevalue("member").email)
    return Form(client, reverse("accounts:login-resend"), {})


def cancel(request) -> Form:
    client = Client()
    password_step(client, request.getfixturevalue("member").email)
    return Form(client, reverse("accounts:login-cancel"), {})


def link(request) -> Form:
    client = Client()
    password_step(client, request.getfixturevalue("member").email)
    client.get(path_of(link_from_outbox()))
    return Form(client, reverse("accounts:login-link"), {})


def code(request) -> Form:
    member = request.getfixturevalue("member_with_totp")
    client = Client()
    password_step(client, member.email)
    data = {"code": current_code(member.totp_secret)}
    return Form(client, reverse("accounts:login-code"), data, ["code"])


def password_reset(request) -> Form:
    member = request.getfixturevalue("member")
    return Form(Client(), reverse("accounts:password-reset"), {"email": member.email})


def reset_confirm(request) -> Form:
    client = Client()
    path = _confirm_path(
        client, "accounts:password-reset-confirm", request.getfixturevalue("member")
    )
    data = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    return Form(client, path, data)


def invite_accept(request) -> Form:
    account = request.getfixturevalue("account")
    invited = member_add(account=account, email="invited@acme.test")
    client = Client()
    path = _confirm_path(client, "accounts:invite-accept", invited)
    data = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    return Form(client, path, data)


def reauth(request) -> Form:
    client = _signed_in(request.getfixturevalue("member"))
    return Form(client, reverse("security:reauth"), {"secret": PASSWORD})


def enroll_start(request) -> Form:
    client = _signed_in(request.getfixturevalue("member"))
    return Form(client, reverse("security:enroll"), {})


def enroll_codes(request) -> Form:
    member = request.getfixturevalue("member")
    client = _signed_in(member)
    totp_services.totp_enrollment_start(user=member)
    return Form(client, reverse("security:enroll-codes"), {"saved": "yes"})


def enroll_app(request) -> Form:
    member = request.getfixturevalue("member")
    client = _signed_in(member)
    totp_services.totp_enrollment_start(user=member)
    device = totp_services.enrollment_device(user=member)
    secret = totp_services.device_secret(device)
    data = {"code": current_code(secret)}
    return Form(client, reverse("security:enroll-app"), data, ["code"])


def regenerate(request) -> Form:
    member = request.getfixturevalue("member_with_totp")
    client = _signed_in_with_code(member)
    return Form(client, reverse("security:recovery-codes-regenerate"), {})


def totp_remove(request) -> Form:
    member = request.getfixturevalue("member_with_totp")
    client = _signed_in_with_code(member)
    return Form(client, reverse("security:totp-remove"), {})


def team_add(request) -> Form:
    client = _signed_in(request.getfixturevalue("account_admin"))
    data = {"email": "new@acme.test", "name": "New Person"}
    return Form(client, reverse("accounts:member-add"), data)


def member_remove(request) -> Form:
    member = request.getfixturevalue("member")
    client = _signed_in(request.getfixturevalue("account_admin"))
    return Form(client, reverse("accounts:member-remove", args=[member.pk]), {})


def security_page(request) -> Form:
    admin = request.getfixturevalue("account_admin")
    admin.totp_secret = enroll_totp(admin)
    client = _signed_in_with_code(admin)
    return Form(client, reverse("security:security"), {"require": "on"})


def logout(request) -> Form:
    client = _signed_in(request.getfixturevalue("member"))
    return Form(client, reverse("accounts:logout"), {})


FORMS: list[Callable[..., Form]] = [
    login,
    resend,
    cancel,
    link,
    code,
    password_reset,
    reset_confirm,
    invite_accept,
    reauth,
    enroll_start,
    enroll_codes,
    enroll_app,
    regenerate,
    totp_remove,
    team_add,
    member_remove,
    security_page,
    logout,
]


CODE_FORMS = [code, enroll_app]
FORMS_WITH_FIELDS = [
    f
    for f in FORMS
    if f not in (resend, cancel, link, enroll_start, regenerate, totp_remove, member_remove, logout)
]


def _made(request) -> Form:
    made = request.param(request)
    browser(made.client)
    return made


@pytest.fixture(params=FORMS, ids=lambda f: f.__name__)
def form(request, db) -> Form:
    return _made(request)


@pytest.fixture(params=CODE_FORMS, ids=lambda f: f.__name__)
def code_form(request, db) -> Form:
    return _made(request)


@pytest.fixture(params=FORMS_WITH_FIELDS, ids=lambda f: f.__name__)
def form_with_fields(request, db) -> Form:
    made = _made(request)
    assert made.data
    return made


def assert_clear_refusal(response, *, expect_4xx: bool = True) -> None:
    status = response.status_code
    body = response.content.decode("utf-8", "replace")
    assert status < 500, f"{status}: {body[:500]}"
    assert "Traceback" not in body
    if expect_4xx:
        assert 400 <= status < 500, status
    if status >= 400:
        assert response["Content-Type"].startswith("text/html"), response["Content-Type"]
        assert "<h1" in body, body[:500]


def _send(form: Form, body: bytes | str, content_type: str, method: str = "POST"):
    """Send ``body`` exactly as given (the client's helpers would re-encode it)."""
    return form.client.generic(
        method, form.path, body, content_type=content_type, **csrf_headers(form.client)
    )


def test_form_body_over_limit_is_refused(form):
    size = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1
    body = "filler=" + "x" * size
    response = _send(form, body, "application/x-www-form-urlencoded")
    assert_clear_refusal(response)
    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_form_nul_bytes_are_refused(form):
    data = {name: value[:3] + "\x00" + value[3:] for name, value in form.data.items()}
    data.setdefault("extra", "\x00")
    response = form.client.post(form.path, data, **csrf_headers(form.client))
    assert_clear_refusal(response, expect_4xx=bool(form.data))


@pytest.mark.parametrize(
    "body",
    [b"email=%FF%FE%00&password=%C3%28&code=%E2%82&secret=%FF", b"\xff\xfe\xfd=\xc3\x28"],
    ids=["percent-encoded", "raw-bytes"],
)
def test_form_invalid_utf8_is_refused(form, body):
    response = _send(form, body, "application/x-www-form-urlencoded")
    assert_clear_refusal(response, expect_4xx=bool(form.data))


def test_form_unknown_charset_is_refused(form):
    body = "&".join(f"{k}={v}" for k, v in form.data.items()).encode()
    response = _send(form, body, "application/x-www-form-urlencoded; charset=no-such-charset")
    assert_clear_refusal(response, expect_4xx=False)


def test_form_utf16_body_is_refused(form):
    body = "&".join(f"{k}={v}" for k, v in form.data.items()).encode("utf-16")
    response = _send(form, body, "application/x-www-form-urlencoded; charset=utf-16")
    assert_clear_refusal(response, expect_4xx=False)


def test_form_json_body_is_refused(form):
    response = _send(form, json.dumps(form.data), "application/json")
    assert_clear_refusal(response, expect_4xx=bool(form.data))


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data; boundary=XyZ", b"--XyZ\r\ngarbage without headers\r\n--XyZ"),
        ("multipart/form-data", b"no boundary at all"),
        ("multipart/form-data; boundary=", b"--\r\n--"),
        ("multipart/form-data; boundary=XyZ", b"\x00\xff" * 100),
    ],
    ids=["bad-part", "no-boundary", "empty-boundary", "binary"],
)
def test_form_multipart_garbage_is_refused(form, content_type, body):
    response = _send(form, body, content_type)
    assert_clear_refusal(response, expect_4xx=bool(form.data))


def test_form_text_plain_is_refused(form):
    response = _send(form, "code=123456", "text/plain")
    assert_clear_refusal(response, expect_4xx=bool(form.data))


def test_form_duplicate_fields_are_refused(form):
    pairs = [f"{k}=wrong&{k}={v}" for k, v in form.data.items()] or ["x=1&x=2"]
    body = "&".join(pairs).replace("@", "%40").replace(" ", "+")
    response = _send(form, body, "application/x-www-form-urlencoded")
    # Two values for a code field are a form error; elsewhere any clear answer will do.
    assert_clear_refusal(response, expect_4xx=bool(form.code_fields))


def test_form_two_valid_codes_are_refused(code_form):
    form = code_form
    value = form.data["code"]
    response = form.client.post(form.path, {"code": [value, value]}, **csrf_headers(form.client))
    assert_clear_refusal(response)


def test_form_full_width_digits_are_refused(code_form):
    form = code_form
    response = form.client.post(form.path, {"code": FULL_WIDTH_DIGITS}, **csrf_headers(form.client))
    assert_clear_refusal(response)
    assert "digits 0-9" in response.content.decode()


def test_form_overlong_field_is_refused(form_with_fields):
    form = form_with_fields
    data = {name: value + "9" * 5000 for name, value in form.data.items()}
    response = form.client.post(form.path, data, **csrf_headers(form.client))
    assert_clear_refusal(response, expect_4xx=False)


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_form_unexpected_method_is_refused(form, method):
    body = "&".join(f"{k}={v}" for k, v in form.data.items())
    response = _send(form, body, "application/x-www-form-urlencoded", method=method.upper())
    assert_clear_refusal(response)
    assert response.status_code in (HTTPStatus.METHOD_NOT_ALLOWED, HTTPStatus.FORBIDDEN)


def test_form_without_csrf_token_is_refused_with_a_page(form):
    response = form.client.post(form.path, form.data)
    assert_clear_refusal(response)
    assert response.status_code == HTTPStatus.FORBIDDEN


def test_form_valid_post_still_works(form):
    """The control: the same form with good input is not refused (the setups are right)."""
    response = form.client.post(form.path, form.data, **csrf_headers(form.client))
    assert response.status_code < 400, response.content.decode()[:500]
