"""manage.py seed_demo: a demo team for `make run`, refused outside debug."""

import pytest
from django.core.management import CommandError

from accounts.management.commands.seed_demo import DEMO_PASSWORD
from accounts.models import Account, User
from tests.conftest import command_output, sign_in_with_link


def _run() -> str:
    return command_output("seed_demo")


def test_seed_demo_refuses_without_debug(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG"):
        _run()
    assert not Account.objects.exists()


def test_seed_demo_creates_team_and_prints_logins(db, settings):
    settings.DEBUG = True
    output = _run()
    team = Account.objects.get(name="Demo Team")
    users = {u.email: u for u in User.objects.filter(account=team)}
    assert set(users) == {"admin@demo.test", "member@demo.test", "sso@demo.test"}
    assert users["admin@demo.test"].role == User.Role.ADMIN
    assert users["admin@demo.test"].is_staff
    assert users["sso@demo.test"].identity == User.Identity.SSO
    assert not users["sso@demo.test"].has_usable_password()
    assert users["member@demo.test"].check_password(DEMO_PASSWORD)
    assert "admin@demo.test" in output and DEMO_PASSWORD in output
    assert "https://twofactor.example/login/" in output


def test_seed_demo_is_idempotent(db, settings):
    settings.DEBUG = True
    _run()
    User.objects.filter(email="member@demo.test").update(name="Renamed")
    _run()
    assert Account.objects.filter(name="Demo Team").count() == 1
    assert User.objects.filter(account__name="Demo Team").count() == 3
    assert User.objects.get(email="member@demo.test").name == "Renamed"


def test_seed_demo_admin_can_sign_in_with_link(client, db, settings):
    settings.DEBUG = True
    _run()
    sign_in_with_link(client, "admin@demo.test", DEMO_PASSWORD)
    assert b"admin@demo.test" in client.get("/").content
