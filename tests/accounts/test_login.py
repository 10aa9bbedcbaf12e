from http import HTTPStatus

import pytest
from django.core import mail
from django.urls import reverse

from accounts.login_flow import PENDING_LOGIN_SESSION_KEY
from security.models import SecurityEvent
from tests.conftest import PASSWORD, password_step


@pytest.mark.django_db
def test_login_renders(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == HTTPStatus.OK
    assert b'autocomplete="username"' in response.content


def test_login_right_password_starts_pending_login_not_session(client, member):
    response = password_step(client, member.email)
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("accounts:login-email-sent")
    assert PENDING_LOGIN_SESSION_KEY in client.session
    assert "_auth_user_id" not in client.session
    assert len(mail.outbox) == 1


def test_login_wrong_password_and_unknown_email_answer_alike(client, member):
    wrong = password_step(client, member.email, "not the password")
    unknown = password_step(client, "nobody@acme.test", PASSWORD)
    assert wrong.status_code == unknown.status_code == HTTPStatus.BAD_REQUEST
    strip = lambda r: r.content.decode().replace("nobody@acme.test", "").replace(member.email, "")  # noqa: E731
    assert _form_error(strip(wrong)) == _form_error(strip(unknown))
    assert not mail.outbox
    assert SecurityEvent.objects.filter(kind="password_failed").count() == 2


def test_login_sso_member_answers_like_unknown(client, sso_member):
    response = password_step(client, sso_member.email, PASSWORD)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert PENDING_LOGIN_SESSION_KEY not in client.session


def _form_error(html: str) -> str:
    start = html.index('class="form-error"')
    return html[start : html.index("</div>", start)]
