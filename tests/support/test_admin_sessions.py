"""Support staff see where a member is signed in and can sign them out everywhere."""

from http import HTTPStatus

from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from accounts.models import User
from security.models import SecurityEvent
from tests.conftest import PASSWORD, is_signed_in, sign_in_with_link
from tests.sessions.test_user_sessions import FIREFOX_WINDOWS, browser

CHANGELIST = reverse("admin:accounts_user_changelist")


def test_admin_member_page_says_where_they_are_signed_in(support_client, member):
    here = browser(FIREFOX_WINDOWS, "198.51.100.2")
    sign_in_with_link(here, member.email)
    page = support_client.get(reverse("admin:accounts_user_change", args=[member.pk]))
    assert page.status_code == HTTPStatus.OK
    html = page.content.decode()
    assert "Firefox on Windows from 198.51.100.2, last seen" in html
    assert here.cookies["sessionid"].value not in html


def test_admin_member_page_of_someone_signed_in_nowhere(support_client, member):
    page = support_client.get(reverse("admin:accounts_user_change", args=[member.pk]))
    assert "Nowhere" in page.content.decode()


def test_support_signs_a_member_out_everywhere(support_client, member):
    here = browser(FIREFOX_WINDOWS, "198.51.100.2")
    sign_in_with_link(here, member.email)
    response = support_client.post(
        CHANGELIST, {"action": "sign_out_members", "_selected_action": [member.pk]}, follow=True
    )
    assert "Signed 1 member out everywhere." in response.content.decode()
    assert not is_signed_in(here)
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.ALL_SESSIONS_ENDED)
    assert event.user == member and event.actor_email == "help@twofactor.test"


def test_sign_out_everywhere_needs_the_support_permission(member):
    viewer = User.objects.create_user("viewer@twofactor.test", PASSWORD, is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_user"))
    client = Client()
    sign_in_with_link(client, viewer.email)
    here = Client()
    sign_in_with_link(here, member.email)
    assert "sign_out_members" not in client.get(CHANGELIST).content.decode()
    client.post(CHANGELIST, {"action": "sign_out_members", "_selected_action": [member.pk]})
    assert is_signed_in(here)
    assert not SecurityEvent.objects.filter(kind=SecurityEvent.Kind.ALL_SESSIONS_ENDED).exists()
