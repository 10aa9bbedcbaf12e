"""Staff signed in to the Django admin: a support user (the Support group) and a superuser.
Their clients answer a server error with its page (raise_request_exception=False), so tests
can assert a 4xx where a 500 would be the bug."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.conftest import PASSWORD, sign_in_with_link


def admin_action(client: Client, action: str, *users: User, confirm: bool = False):
    """Choose ``action`` for ``users`` on the admin's member list (and, with ``confirm``, say
    yes on its confirmation page); the page it ends on."""
    data = {"action": action, "_selected_action": [user.pk for user in users]}
    if confirm:
        data["post"] = "yes"
    return client.post(reverse("admin:accounts_user_changelist"), data, follow=True)


def signed_in_client(email: str) -> Client:
    client = Client(raise_request_exception=False)
    sign_in_with_link(client, email)
    return client


@pytest.fixture
def support_user(db) -> User:
    user = User.objects.create_user("help@twofactor.test", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Support"))
    return user


@pytest.fixture
def support_client(support_user) -> Client:
    return signed_in_client(support_user.email)


@pytest.fixture
def root_client(db) -> Client:
    User.objects.create_superuser("root@twofactor.test", PASSWORD)
    return signed_in_client("root@twofactor.test")
