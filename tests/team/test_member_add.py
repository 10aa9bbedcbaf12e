import re
from http import HTTPStatus

from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from security.models import SecurityEvent
from tests.conftest import path_of, sign_in_with_link

ADD = reverse("accounts:member-add")
NEW_PASSWORD = "a brand new passphrase"


def invitation_link() -> str:
    match = re.search(r"https?://\S+/invite/\S+/\S+/", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(0)


def test_member_add_creates_member_without_password_and_emails_invitation(admin_client, account):
    mail.outbox.clear()
    response = admin_client.post(ADD, {"email": "New@Acme.test", "name": "Nia"})
    assert response.status_code == HTTPStatus.FOUND
    member = User.objects.get(email="new@acme.test")
    assert member.account == account and member.role == User.Role.MEMBER
    assert not member.has_usable_password()
    assert mail.outbox[-1].to == ["new@acme.test"]
    assert invitation_link().startswith("https://twofactor.example/invite/")
    assert SecurityEvent.objects.filter(kind="member_added", user=member).exists()


def test_member_add_as_admin_sets_role(admin_client):
    admin_client.post(ADD, {"email": "second-admin@acme.test", "admin": "on"})
    assert User.objects.get(email="second-admin@acme.test").role == User.Role.ADMIN


def test_member_add_sso_member_gets_no_password_link(admin_client):
    mail.outbox.clear()
    admin_client.post(ADD, {"email": "idp@acme.test", "sso": "on"})
    assert User.objects.get(email="idp@acme.test").is_sso
    assert "/invite/" not in mail.outbox[-1].body
    assert "identity provider" in mail.outbox[-1].body


def test_member_add_existing_email_is_a_clear_form_error(admin_client, member, other_admin):
    for email in (member.email, other_admin.email):
        response = admin_client.post(ADD, {"email": email})
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "already belongs to a team" in response.content.decode()


def test_member_add_bad_email_is_a_form_error(admin_client):
    response = admin_client.post(ADD, {"email": "not an email"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert 'role="alert"' in response.content.decode()


def test_member_add_refused_to_members(signed_in):
    response = signed_in.post(ADD, {"email": "sneaky@acme.test"})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not User.objects.filter(email="sneaky@acme.test").exists()


def test_member_add_get_not_allowed(admin_client):
    assert admin_client.get(ADD).status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_invitation_sets_password_once_and_never_signs_in(admin_client):
    admin_client.post(ADD, {"email": "new@acme.test"})
    link = path_of(invitation_link())
    invited = Client()
    form_page = invited.get(link, follow=True)
    assert form_page.status_code == HTTPStatus.OK
    set_password_url = form_page.redirect_chain[-1][0]
    done = invited.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == HTTPStatus.FOUND
    assert "_auth_user_id" not in invited.session
    assert invited.get(reverse("home")).status_code == HTTPStatus.FOUND
    # The link died with the password it set.
    again = Client().get(link, follow=True)
    assert "doesn" in again.content.decode()  # "This link doesn't work any more"
    # The new member signs in with the password and the second step.
    assert (
        sign_in_with_link(Client(), "new@acme.test", NEW_PASSWORD).status_code == HTTPStatus.FOUND
    )
    assert SecurityEvent.objects.filter(kind="password_set", user_email="new@acme.test").exists()
