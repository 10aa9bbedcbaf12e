"""A team name, a member's name, or anything else shown in an email subject or header with a
CR, LF or another control character is refused where it is entered, with a clear message;
sending mail never answers 500 for one (older rows may still hold them)."""

import os
import subprocess
from http import HTTPStatus

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from accounts.models import Account, User
from accounts.services import account_create, member_add
from tests.conftest import PASSWORD
from tests.hardening.conftest import PYTHON, REPO

BAD = [
    "Acme\r\nBcc: victim@example.com",
    "Acme\rX",
    "Acme\nX",
    "Acme\tX",
    "Acme\x00X",
    "Acme\x1bX",
    "Acme\x85X",  # NEL
    "Acme\u2028X",  # line separator
    "Acme\u202eX",  # right-to-left override
]


@pytest.mark.parametrize("name", BAD)
def test_a_team_name_with_control_characters_is_refused_by_the_service(db, name):
    with pytest.raises(ValidationError):
        account_create(name=name, admin_email="a@b.test", admin_password=PASSWORD)
    assert not Account.objects.exists()


@pytest.mark.parametrize("name", BAD[:3])
def test_create_account_command_refuses_it_with_a_clear_message(db, name):
    with pytest.raises(CommandError, match="control characters"):
        call_command("create_account", name, "--admin-email", "a@b.test", "--noinput")
    assert not Account.objects.exists()


def test_add_member_command_refuses_a_name_with_a_line_break(account):
    with pytest.raises(CommandError, match="control characters"):
        call_command(
            "add_member", account.name, "--email", "n@acme.test", "--name", "N\nX", "--noinput"
        )
    assert not User.objects.filter(email="n@acme.test").exists()


def test_names_with_other_scripts_and_joiners_are_fine(db):
    account, _admin = account_create(
        name="Ācme — ‌Zürich 東京 👩‍💻", admin_email="a@b.test", admin_password=PASSWORD
    )
    assert account.pk


@pytest.mark.parametrize("name", ["Mia\r\nBcc: victim@example.com", "Mia\u202eX"])
def test_team_page_refuses_a_member_name_with_control_characters(admin_client, name):
    response = admin_client.post(
        reverse("accounts:member-add"), {"email": "new@acme.test", "name": name}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "control characters" in response.content.decode()
    assert not User.objects.filter(email="new@acme.test").exists()


def test_admin_refuses_a_team_name_with_control_characters(root_client, account):
    url = reverse("admin:accounts_account_change", args=[account.pk])
    response = root_client.post(url, {"name": "Acme\r\nBcc: victim@example.com"})
    assert response.status_code in (HTTPStatus.OK, HTTPStatus.BAD_REQUEST)
    assert "control characters" in response.content.decode()
    account.refresh_from_db()
    assert account.name == "Acme"


def test_admin_refuses_a_member_name_with_control_characters(root_client, member):
    url = reverse("admin:accounts_user_change", args=[member.pk])
    response = root_client.post(url, {"email": member.email, "name": "Mia\nX", "is_active": "on"})
    assert "control characters" in response.content.decode()
    member.refresh_from_db()
    assert member.name == "Mia Member"


def test_an_old_team_name_with_a_line_break_never_makes_mail_a_500(admin_client, account):
    Account.objects.filter(pk=account.pk).update(name="Acme\r\nBcc: victim@example.com")
    admin_client.raise_request_exception = False
    mail.outbox.clear()
    response = admin_client.post(reverse("accounts:member-add"), {"email": "new@acme.test"})
    assert response.status_code == HTTPStatus.FOUND
    assert len(mail.outbox) == 1
    message = mail.outbox[0].message()
    assert "\r" not in message["Subject"] and "\n" not in message["Subject"]
    assert message["Bcc"] is None
    assert mail.outbox[0].recipients() == ["new@acme.test"]


def test_an_old_member_name_with_a_line_break_sends_mail(account):
    member = member_add(account=account, email="m@acme.test", password=PASSWORD)
    User.objects.filter(pk=member.pk).update(name="Mia\r\nBcc: victim@example.com")
    mail.outbox.clear()
    client = Client(raise_request_exception=False)
    response = client.post(reverse("accounts:login"), {"email": member.email, "password": PASSWORD})
    assert response.status_code == HTTPStatus.FOUND
    assert mail.outbox[-1].recipients() == [member.email]


@pytest.mark.parametrize("variable", ["SITE_NAME", "DEFAULT_FROM_EMAIL", "SUPPORT_EMAIL"])
def test_settings_shown_in_headers_refuse_line_breaks_at_start_up(variable):
    env = {**os.environ, "DJANGO_DEBUG": "1", variable: "Team\r\nBcc: victim@example.com"}
    result = subprocess.run(  # noqa: S603
        [PYTHON, "-c", "import django; django.setup()"],
        cwd=REPO,
        env={**env, "DJANGO_SETTINGS_MODULE": "twofactor_site.settings"},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert variable in result.stderr and "control characters" in result.stderr
