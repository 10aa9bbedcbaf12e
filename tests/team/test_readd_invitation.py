"""A re-added member's invitation says why their sign-in was reset, and by whom."""

from django.core import mail

from accounts.models import User
from accounts.services import member_invite, member_readd
from tests.conftest import AUDIT


def test_readd_by_an_account_admin_says_who_and_why(account_admin, member):
    mail.outbox.clear()
    member_readd(audit=AUDIT, member=member, by=account_admin)
    message = mail.outbox[-1]
    assert message.to == [member.email]
    assert message.subject == "Your sign-in to Acme on Twofactor was reset"
    assert "admin@acme.test, an Account Admin of Acme, removed you from the team" in message.body
    assert "old password, authenticator app and recovery codes no longer work" in message.body
    assert "lost their phone or is locked out" in message.body
    assert "Set a new password here" in message.body
    html = message.alternatives[0][0]
    assert "admin@acme.test, an Account Admin of Acme" in html


def test_readd_by_support_says_support(member):
    support = User.objects.create_user("help@twofactor.test", "x", is_staff=True)
    mail.outbox.clear()
    member_readd(audit=AUDIT, member=member, by=support)
    assert "help@twofactor.test, of Twofactor support, removed you from Acme" in (
        mail.outbox[-1].body
    )


def test_first_invitation_says_nothing_about_a_reset(account, account_admin):
    mail.outbox.clear()
    member_invite(audit=AUDIT, account=account, email="new@acme.test", by=account_admin)
    message = mail.outbox[-1]
    assert message.subject == "You've been added to Acme on Twofactor"
    assert "admin@acme.test added you to Acme on Twofactor." in message.body
    assert "reset" not in message.body.lower()
