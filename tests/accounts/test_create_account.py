"""manage.py create_account "Acme" --admin-email admin@acme.test"""

import re
from http import HTTPStatus

import pytest
from django.core import mail
from django.core.management import CommandError

from accounts.models import Account, User
from tests.conftest import PASSWORD, command_output, path_of, sign_in_with_link


def _run(*args: str) -> str:
    return command_output("create_account", *args)


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


@pytest.mark.parametrize(
    ("name", "email", "password", "refusal"),
    [
        pytest.param("Acme", "other@acme.test", PASSWORD, "already exists", id="duplicate_account"),
        pytest.param(
            "Initech",
            "ADMIN@acme.test",
            PASSWORD,
            "already belongs to a team",
            id="email_already_in_a_team",
        ),
        pytest.param("Initech", "not-an-email", PASSWORD, "not an email address", id="bad_email"),
        pytest.param("Initech", "boss@initech.test", "123", "too short", id="weak_password"),
        pytest.param("   ", "boss@initech.test", PASSWORD, "needs a name", id="blank_name"),
    ],
)
def test_create_account_refuses(account_admin, monkeypatch, name, email, password, refusal):
    monkeypatch.setenv("TWOFACTOR_PASSWORD", password)
    accounts, users = set(Account.objects.values_list("pk")), set(User.objects.values_list("pk"))
    with pytest.raises(CommandError, match=refusal):
        _run(name, "--admin-email", email, "--noinput")
    # No account and no user made.
    assert set(Account.objects.values_list("pk")) == accounts
    assert set(User.objects.values_list("pk")) == users


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
