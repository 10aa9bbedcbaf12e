"""manage.py add_member "Acme" --email m@acme.test [--admin] [--sso]"""

import pytest
from django.core.management import CommandError

from accounts.models import User
from tests.conftest import PASSWORD, command_output


def _run(*args: str) -> str:
    return command_output("add_member", *args)


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


@pytest.mark.parametrize(
    ("team", "email", "password", "refusal"),
    [
        pytest.param(
            "Nope", "m@nope.test", PASSWORD, "No account is named 'Nope'", id="unknown_account"
        ),
        pytest.param(
            "Acme", "MEMBER@acme.test", PASSWORD, "already belongs to a team", id="duplicate"
        ),
        pytest.param("Acme", "nope", PASSWORD, "not an email address", id="bad_email"),
        pytest.param("Acme", "weak@acme.test", "password", "too common", id="weak_password"),
    ],
)
def test_add_member_refuses(member, monkeypatch, team, email, password, refusal):
    monkeypatch.setenv("TWOFACTOR_PASSWORD", password)
    before = set(User.objects.values_list("pk", "email"))
    with pytest.raises(CommandError, match=refusal):
        _run(team, "--email", email, "--noinput")
    assert set(User.objects.values_list("pk", "email")) == before  # nobody added


def test_add_member_noinput_without_password_never_prompts(account, monkeypatch):
    monkeypatch.delenv("TWOFACTOR_PASSWORD", raising=False)
    monkeypatch.setattr("getpass.getpass", lambda *a: pytest.fail("asked for a password"))
    _run("Acme", "--email", "later@acme.test", "--noinput")
    assert not User.objects.get(email="later@acme.test").has_usable_password()
