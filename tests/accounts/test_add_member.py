"""manage.py add_member "Acme" --email m@acme.test [--admin] [--sso]"""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from tests.conftest import PASSWORD


def _run(*args: str) -> str:
    out = StringIO()
    call_command("add_member", *args, stdout=out)
    return out.getvalue()


def test_add_member_with_password_from_environment(account, monkeypatch):
    monkeypatch.setenv("TWOFACTOR_PASSWORD", PASSWORD)
    output = _run("Acme", "--email", "New@Acme.test", "--name", "Nina", "--noinput")
    assert "Added new@acme.test to Acme as Member" in output
    member = User.objects.get(email="new@acme.test")
    assert (member.account, member.role, member.name) == (account, User.Role.MEMBER, "Nina")
    assert member.check_password(PASSWORD)


def test_add_member_admin(account, monkeypatch):
    monkeypatch.setenv("TWOFACTOR_PASSWORD", PASSWORD)
    output = _run("Acme", "--email", "boss2@acme.test", "--admin", "--noinput")
    assert "Account Admin" in output
    assert User.objects.get(email="boss2@acme.test").role == User.Role.ADMIN


def test_add_member_sso_gets_no_password(account, monkeypatch):
    monkeypatch.setenv("TWOFACTOR_PASSWORD", PASSWORD)
    _run("Acme", "--email", "sso2@acme.test", "--sso", "--noinput")
    member = User.objects.get(email="sso2@acme.test")
    assert member.identity == User.Identity.SSO
    assert not member.has_usable_password()


def test_add_member_refuses_unknown_account(db, monkeypatch):
    monkeypatch.setenv("TWOFACTOR_PASSWORD", PASSWORD)
    with pytest.raises(CommandError, match="No account is named 'Nope'"):
        _run("Nope", "--email", "m@nope.test", "--noinput")
    assert not User.objects.filter(email="m@nope.test").exists()


def test_add_member_refuses_duplicate(member, monkeypatch):
    monkeypatch.setenv("TWOFACTOR_PASSWORD", PASSWORD)
    with pytest.raises(CommandError, match="already belongs to a team"):
        _run("Acme", "--email", "MEMBER@acme.test", "--noinput")


def test_add_member_refuses_bad_email(account, monkeypatch):
    monkeypatch.setenv("TWOFACTOR_PASSWORD", PASSWORD)
    with pytest.raises(CommandError, match="not an email address"):
        _run("Acme", "--email", "nope", "--noinput")


def test_add_member_refuses_weak_password(account, monkeypatch):
    monkeypatch.setenv("TWOFACTOR_PASSWORD", "password")
    with pytest.raises(CommandError, match="too common"):
        _run("Acme", "--email", "weak@acme.test", "--noinput")
    assert not User.objects.filter(email="weak@acme.test").exists()


def test_add_member_noinput_without_password_never_prompts(account, monkeypatch):
    monkeypatch.delenv("TWOFACTOR_PASSWORD", raising=False)
    monkeypatch.setattr("getpass.getpass", lambda *a: pytest.fail("asked for a password"))
    _run("Acme", "--email", "later@acme.test", "--noinput")
    assert not User.objects.get(email="later@acme.test").has_usable_password()
