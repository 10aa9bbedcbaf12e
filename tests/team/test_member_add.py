import re
from http import HTTPStatus

from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import Account, User
from security.models import SecurityEvent
from tests.conftest import enroll_totp, path_of, sign_in_with_link

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


def _open_invitation(link: str) -> tuple[Client, str]:
    """Open the emailed invitation in a fresh browser: the token moves into the session and
    the form's own URL comes back."""
    invited = Client()
    form_page = invited.get(path_of(link), follow=True)
    assert form_page.status_code == HTTPStatus.OK
    return invited, form_page.redirect_chain[-1][0]


def test_invitation_sets_password_once_and_signs_straight_in(admin_client):
    admin_client.post(ADD, {"email": "new@acme.test"})
    link = invitation_link()
    mail.outbox.clear()
    invited, set_password_url = _open_invitation(link)
    done = invited.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    # Opening the invitation proved the mailbox, as a sign-in link does: no other link is sent.
    assert done.status_code == HTTPStatus.FOUND and done.url == reverse("home")
    member = User.objects.get(email="new@acme.test")
    assert invited.session["_auth_user_id"] == str(member.pk)
    home = invited.get(reverse("home"))
    assert home.status_code == HTTPStatus.OK
    assert "Welcome to Acme! Your password is saved and you&#x27;re signed in." in (
        home.content.decode()
    )
    assert not [m for m in mail.outbox if "/login/link/" in m.body]
    sign_in = SecurityEvent.objects.get(kind="sign_in", user=member)
    assert sign_in.detail["method"] == "invitation"
    assert SecurityEvent.objects.filter(kind="password_set", user_email="new@acme.test").exists()
    # The link died with the password it set.
    again = Client().get(path_of(link), follow=True)
    assert "doesn" in again.content.decode()  # "This invitation doesn't work any more"
    # Later, the member signs in with the password and the second step.
    assert (
        sign_in_with_link(Client(), "new@acme.test", NEW_PASSWORD).status_code == HTTPStatus.FOUND
    )


def test_invitation_goes_on_to_setup_when_the_team_requires_the_app(admin_client, account):
    admin_client.post(ADD, {"email": "new@acme.test"})
    Account.objects.filter(pk=account.pk).update(require_totp=True)
    invited, set_password_url = _open_invitation(invitation_link())
    invited.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    response = invited.get(reverse("home"))
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("security:enroll")


def test_invitation_page_names_the_team_and_the_email(admin_client):
    admin_client.post(ADD, {"email": "new@acme.test"})
    invited, set_password_url = _open_invitation(invitation_link())
    page = invited.get(set_password_url).content.decode()
    assert "Welcome to Acme" in page
    assert "<strong>new@acme.test</strong>" in page
    assert 'autocomplete="username"' in page and 'value="new@acme.test"' in page
    # The rules once, under the password field; none under the confirmation.
    assert page.count("At least 10 characters") == 1
    assert 'id="id_new_password2_helptext"' not in page


def test_invitation_errors_sit_on_the_field_they_are_about(admin_client):
    admin_client.post(ADD, {"email": "new@acme.test"})
    invited, set_password_url = _open_invitation(invitation_link())
    short = invited.post(set_password_url, {"new_password1": "short", "new_password2": "short"})
    assert short.status_code == HTTPStatus.BAD_REQUEST
    errors = short.context["form"].errors
    assert "new_password1" in errors and "new_password2" not in errors
    assert "too short" in " ".join(errors["new_password1"])

    mismatch = invited.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "!"}
    )
    errors = mismatch.context["form"].errors
    assert list(errors) == ["new_password2"]
    assert "doesn't match the password above" in errors["new_password2"][0]
    assert not User.objects.get(email="new@acme.test").has_usable_password()


def test_invitation_of_a_member_with_an_app_does_not_skip_the_app(admin_client, account):
    """Should a member with an authenticator app ever set a password from an invitation, the
    invitation does not stand in for the app: they sign in as usual."""
    admin_client.post(ADD, {"email": "new@acme.test"})
    link = invitation_link()
    member = User.objects.get(email="new@acme.test")
    enroll_totp(member)
    invited, set_password_url = _open_invitation(link)
    done = invited.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert done.status_code == HTTPStatus.FOUND
    assert "_auth_user_id" not in invited.session
