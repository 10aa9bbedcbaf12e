"""manage.py create_account "Acme" --admin-email admin@acme.test"""

import re
from http import HTTPStatus
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from accounts.models import Account, User
from tests.conftest import PASSWORD, path_of, sign_in_with_link


def _run(*args: str) -> str:
    out = StringIO()
    call_command("create_account", *args, stdout=out)
    return out.getvalue()


def test_create_account_with_password_from_environment(db, monkeypatch):
    monkeypatch.setenv("TWOFACTOR_PASSWORD", PASSWORD)
    output = _run("Initech", "--admin-email", " Boss@Initech.TEST ", "--noinput")
    assert "Created Initech with Account Admin boss@initech.test" in output
    admin = User.objects.get(email="boss@initech.test")
    assert admin.account == Account.objects.get(name="Initech")
    assert admin.role == User.Role.ADMIN
    assert admin.check_password(PASSWORD)
    assert PASSWORD not in output


def test_create_account_noinput_without_password_gives_unusable_one(db, monkeypatch):
    monkeypatch.delenv("TWOFACTOR_PASSWORD", raising=False)
    monkeypatch.setattr("getpass.getpass", lambda *a: pytest.fail("asked for a password"))
    output = _run("Initech", "--admin-email", "boss@initech.test", "--noinput")
    assert "/password-reset/" in output
    assert not User.objects.get(email="boss@initech.test").has_usable_password()


def test_create_account_refuses_duplicate_account(account_admin, monkeypatch):
    monkeypatch.setenv("TWOFACTOR_PASSWORD", PASSWORD)
    with pytest.raises(CommandError, match="already exists"):
        _run("Acme", "--admin-email", "other@acme.test", "--noinput")
    assert not User.objects.filter(email="other@acme.test").exists()


def test_create_account_refuses_email_already_in_a_team(account_admin, monkeypatch):
    monkeypatch.setenv("TWOFACTOR_PASSWORD", PASSWORD)
    with pytest.raises(CommandError, match="already belongs to a team"):
        _run("Initech", "--admin-email", "ADMIN@acme.test", "--noinput")
    assert not Account.objects.filter(name="Initech").exists()


def test_create_account_refuses_bad_email(db, monkeypatch):
    monkeypatch.setenv("TWOFACTOR_PASSWORD", PASSWORD)
    with pytest.raises(CommandError, match="not an email address"):
        _run("Initech", "--admin-email", "not-an-email", "--noinput")
    assert not Account.objects.exists()


def test_create_account_refuses_weak_password(db, monkeypatch):
    monkeypatch.setenv("TWOFACTOR_PASSWORD", "123")
    with pytest.raises(CommandError, match="too short"):
        _run("Initech", "--admin-email", "boss@initech.test", "--noinput")
    assert not Account.objects.exists()


def test_create_account_without_password_admin_can_set_one_by_reset(client, db, monkeypatch):
    """The command says: reset it at /password-reset/. That must actually send a link."""
    monkeypatch.delenv("TWOFACTOR_PASSWORD", raising=False)
    _run("Initech", "--admin-email", "boss@initech.test", "--noinput")
    client.post("/password-reset/", {"email": "boss@initech.test"})
    assert [m.to for m in mail.outbox] == [["boss@initech.test"]]
    link = re.search(r"https?://\S+/password-reset/\S+/", mail.outbox[0].body).group(0)
    form_url = client.get(path_of(link), follow=True).redirect_chain[-1][0]
    client.post(form_url, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    sign_in_with_link(client, "boss@initech.test")
    assert client.get("/").status_code == HTTPStatus.OK


def test_create_account_refuses_blank_name(db, monkeypatch):
    monkeypatch.setenv("TWOFACTOR_PASSWORD", PASSWORD)
    with pytest.raises(CommandError, match="needs a name"):
        _run("   ", "--admin-email", "boss@initech.test", "--noinput")
    assert not Account.objects.exists()
