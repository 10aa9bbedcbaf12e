"""Forgot password: same answer for everyone, links from SITE_URL, and never a sign-in."""

import json
import logging
import re
from http import HTTPStatus

from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.test import Client
from django.urls import clear_script_prefix, reverse, set_script_prefix
from django_tasks_db.models import DBTaskResult

from accounts.login_flow import PENDING_LOGIN_SESSION_KEY
from accounts.models import User
from accounts.services import member_add
from tests.conftest import (
    assert_emailed_link_from_site_url,
    link_from_outbox,
    password_step,
    path_of,
    sign_in_with_link,
)
from twofactor_site.mail.models import OutgoingEmail

URL = "/password-reset/"
NEW_PASSWORD = "a brand new passphrase 42"


def _reset_link() -> str:
    match = re.search(r"https?://\S+/password-reset/[^/\s]+/[^/\s]+/", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(0)


def test_password_reset_renders(client, db):
    response = client.get(URL)
    assert response.status_code == HTTPStatus.OK
    assert b'name="email"' in response.content


def test_password_reset_same_answer_for_unknown_known_and_sso(member, sso_member):
    answers = []
    for email in ("nobody@acme.test", member.email, sso_member.email):
        response = Client().post(URL, {"email": email}, follow=True)
        answers.append((response.status_code, response.redirect_chain, response.content))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][1] == [(reverse("accounts:password-reset-done"), HTTPStatus.FOUND)]
    # Only the password user gets mail.
    assert [m.to for m in mail.outbox] == [[member.email]]


def test_password_reset_link_built_from_site_url(client, member):
    client.post(URL, {"email": member.email}, HTTP_HOST="localhost")
    assert _reset_link().startswith("https://twofactor.example/password-reset/")
    assert_emailed_link_from_site_url("https://twofactor.example/password-reset/")


def test_password_reset_never_signs_in(client, member):
    client.post(URL, {"email": member.email})
    response = client.get(path_of(_reset_link()), follow=True)
    assert response.status_code == HTTPStatus.OK
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("accounts:password-reset-complete")
    assert b'href="/login/"' in response.content
    assert "_auth_user_id" not in client.session
    # The next page still wants the password, and then the second step.
    response = client.get(reverse("home"))
    assert response.url.startswith(reverse("accounts:login"))
    response = password_step(client, member.email, NEW_PASSWORD)
    assert response.url == reverse("accounts:login-email-sent")
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("home")).url == reverse("accounts:login-email-sent")
    client.get(path_of(link_from_outbox()))
    client.post(reverse("accounts:login-link"))
    assert client.get(reverse("home")).status_code == HTTPStatus.OK


def test_password_reset_ends_other_sessions(member):
    elsewhere = Client()
    sign_in_with_link(elsewhere, member.email)
    browser = Client()
    browser.post(URL, {"email": member.email})
    form_url = browser.get(path_of(_reset_link()), follow=True).redirect_chain[-1][0]
    browser.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert elsewhere.get(reverse("home")).status_code == HTTPStatus.FOUND


def test_password_reset_link_works_once(client, member):
    client.post(URL, {"email": member.email})
    link = path_of(_reset_link())
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    response = Client().get(link, follow=True)
    assert b"This link doesn" in response.content
    assert b'name="new_password1"' not in response.content


def test_password_reset_not_reachable_with_pending_login(client, member):
    password_step(client, member.email)
    response = client.get(URL)
    assert response.url == reverse("accounts:login-email-sent")
    assert PENDING_LOGIN_SESSION_KEY in client.session


def test_password_reset_rate_limited_per_email(member, settings):
    settings.RATELIMIT_RESET_EMAIL = "2/d"
    for i in range(2):
        Client(REMOTE_ADDR=f"198.51.100.{i + 1}").post(URL, {"email": member.email})
    response = Client(REMOTE_ADDR="198.51.100.9").post(URL, {"email": member.email.upper()})
    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert len(mail.outbox) == 2


def test_password_reset_rate_limited_per_ip_alike_for_unknown(member, settings):
    settings.RATELIMIT_RESET_IP = "2/d"
    client = Client(REMOTE_ADDR="203.0.113.8")
    client.post(URL, {"email": "a@acme.test"})
    client.post(URL, {"email": "b@acme.test"})
    for email in (member.email, "c@acme.test"):
        assert client.post(URL, {"email": email}).status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert not mail.outbox


def test_password_reset_reaches_password_member_without_one_yet(client, account):
    """An invited member whose invitation lapsed sets a password here; SSO members never."""
    invited = member_add(account=account, email="invited@acme.test", password=None)
    client.post(URL, {"email": "Invited@acme.test"})
    assert [m.to for m in mail.outbox] == [[invited.email]]


def test_password_reset_ignores_inactive_member(client, member):
    User.objects.filter(pk=member.pk).update(is_active=False)
    client.post(URL, {"email": member.email})
    assert not mail.outbox


class BrokenBackend(LocmemBackend):
    def send_messages(self, messages):
        raise RuntimeError(f"cannot send to {messages[0].to[0]}: {messages[0].body}")


def test_password_reset_answers_before_the_mail_is_rendered_or_sent(client, member, mail_queue):
    """The answer never waits for the mail server, nor renders the email: either would tell
    known addresses (mailed) from unknown ones by its timing (bench/mail.py measures it). The
    request queues the email; the worker renders and sends it."""
    response = client.post(URL, {"email": member.email})
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == reverse("accounts:password-reset-done")
    assert not mail.outbox
    mail_queue.run()
    assert [m.to for m in mail.outbox] == [[member.email]]
    assert "/password-reset/" in mail.outbox[0].body


def test_password_reset_queues_the_same_sealed_task_for_any_address(client, member, mail_queue):
    """Known or unknown, the request does one thing: a task holding the address encrypted.
    The worker looks it up and queues the email, whose task names only its row."""
    for address in (member.email, "nobody@acme.test"):
        client.post(URL, {"email": address})
    requests = list(DBTaskResult.objects.order_by("enqueued_at"))
    assert [task.task_path for task in requests] == ["accounts.tasks.password_reset_request"] * 2
    assert not OutgoingEmail.objects.exists()
    mail_queue.run()
    email = OutgoingEmail.objects.get()
    token = _reset_link().rstrip("/").rsplit("/", 1)[-1]
    stored = json.dumps([task.args_kwargs for task in DBTaskResult.objects.all()])
    for secret in (token, member.email, "nobody@acme.test"):
        assert secret not in stored
        assert secret not in email.context_encrypted
    assert DBTaskResult.objects.filter(args_kwargs={"args": [email.pk], "kwargs": {}}).exists()


def test_password_reset_mail_failure_logged_without_secrets(client, member, settings, caplog):
    settings.EMAIL_BACKEND = "tests.accounts.test_password_reset.BrokenBackend"
    with caplog.at_level(logging.DEBUG):
        response = client.post(URL, {"email": member.email})
    assert response.url == reverse("accounts:password-reset-done")
    email = OutgoingEmail.objects.get()
    assert [r.getMessage() for r in caplog.records if r.name == "twofactor.email"] == [
        f"email password-reset #{email.pk} could not be sent (try 1): RuntimeError"
    ]
    assert member.email not in caplog.text
    assert "/password-reset/" not in caplog.text
    assert "cannot send" not in caplog.text
    # The next email goes out as usual.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client.post(URL, {"email": member.email})
    assert [m.to for m in mail.outbox] == [[member.email]]


def test_password_reset_link_rendered_as_in_the_request(client, member, mail_queue):
    """The worker renders with the script prefix of the request that queued the email (a
    site under a path). The test client sets none, so the test does."""
    set_script_prefix("/team/")
    try:
        client.post(URL, {"email": member.email})
    finally:
        clear_script_prefix()
    mail_queue.run()
    assert _reset_link().startswith("https://twofactor.example/team/password-reset/")


def test_password_reset_page_says_the_rules_once_and_puts_each_error_on_its_field(client, member):
    client.post(URL, {"email": member.email})
    form_url = client.get(path_of(_reset_link()), follow=True).redirect_chain[-1][0]
    page = client.get(form_url).content.decode()
    assert page.count("At least 10 characters") == 1
    assert 'id="id_new_password2_helptext"' not in page
    assert 'autocomplete="username"' in page and f'value="{member.email}"' in page

    short = client.post(form_url, {"new_password1": "short", "new_password2": "short"})
    errors = short.context["form"].errors
    assert list(errors) == ["new_password1"] and "too short" in errors["new_password1"][0]
    mismatch = client.post(
        form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD + "!"}
    )
    errors = mismatch.context["form"].errors
    assert list(errors) == ["new_password2"]
    assert "doesn't match the password above" in errors["new_password2"][0]
    assert not User.objects.get(pk=member.pk).check_password(NEW_PASSWORD)
