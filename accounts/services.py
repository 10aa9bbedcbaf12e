"""State changes of team accounts and their members. Keyword-only, atomic."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from accounts import tokens
from accounts.models import Account, User, new_security_stamp, normalize_email
from accounts.sign_in_links import sign_in_links_retire
from accounts.trusted_browsers import trusted_browsers_end
from security.events import Audit, Kind, event_record
from security.models import SecurityEvent
from twofactor_site.mail import email_send_later
from twofactor_site.mail.models import OutgoingEmail
from twofactor_site.text import refuse_control_characters


def user_sessions_end(*, user: User) -> None:
    """End every session and pending login of ``user`` at its next request (the security stamp
    is part of each one's auth hash), retire their unused sign-in links and end every trusted
    browser of theirs (a new password or factor is trusted by no browser yet). The caller
    re-attaches the current session if it should survive (accounts.presence.session_reattach).

    The stamp is swapped from the one ``user`` was loaded with by one conditional UPDATE: if a
    racing change (a password reset, a removal, another factor change) rotated it first, the
    caller's session was ended by that change, and ``user.sessions_end_raced`` says so:
    session_reattach then signs it out instead of bringing it back."""
    loaded_stamp = user.security_stamp
    user.security_stamp = new_security_stamp()
    swapped = User.objects.filter(pk=user.pk, security_stamp=loaded_stamp).update(
        security_stamp=user.security_stamp
    )
    if not swapped:
        User.objects.filter(pk=user.pk).update(security_stamp=user.security_stamp)
    user.sessions_end_raced = not swapped
    # Pending logins die with the stamp (their auth hash no longer matches); their emailed
    # links go too, so nothing sent before the change still works.
    sign_in_links_retire(user=user)
    trusted_browsers_end(user=user)


@transaction.atomic
def account_create(
    *, name: str, admin_email: str, admin_password: str | None
) -> tuple[Account, User]:
    """A team account and its first Account Admin. A name with control characters is
    refused (ValidationError): it would be shown in email subjects."""
    refuse_control_characters(name)
    account = Account.objects.create(name=name.strip())
    admin = User.objects.create_user(
        normalize_email(admin_email), admin_password, account=account, role=User.Role.ADMIN
    )
    return account, admin


@transaction.atomic
def member_add(
    *,
    account: Account,
    email: str,
    role: str = User.Role.MEMBER,
    identity: str = User.Identity.PASSWORD,
    password: str | None = None,
    name: str = "",
) -> User:
    """A new member of ``account``. Without a password, the member cannot sign in until they
    set one from an invitation. SSO members never get a usable password."""
    if identity == User.Identity.SSO:
        password = None
    refuse_control_characters(name)
    return User.objects.create_user(
        normalize_email(email), password, account=account, role=role, identity=identity, name=name
    )


class MemberError(Exception):
    """A member change the rules do not allow; the message is for the person asking."""


def member_invite(
    *,
    audit: Audit,
    account: Account,
    email: str,
    by: User,
    role: str = User.Role.MEMBER,
    identity: str = User.Identity.PASSWORD,
    name: str = "",
) -> tuple[User, OutgoingEmail]:
    """Add ``email`` to ``account`` and email them a link to set a password (single use: it
    dies when the password is set; expires after PASSWORD_RESET_TIMEOUT). Returns the member
    and their invitation, queued in the same transaction (twofactor_site.mail)."""
    email = normalize_email(email)
    taken = MemberError(_("That email can't be added: it already belongs to a team."))
    if User.objects.filter(email=email).exists():
        raise taken
    with transaction.atomic():  # the member and their invitation commit together
        try:
            member = member_add(
                account=account, email=email, role=role, identity=identity, name=name
            )
        except IntegrityError:  # the same address added at the same moment by someone else
            raise taken from None
        readded = SecurityEvent.objects.filter(
            account=account, kind=Kind.MEMBER_REMOVED, user_email=email
        ).exists()
        event_record(
            kind=Kind.MEMBER_READDED if readded else Kind.MEMBER_ADDED,
            audit=audit,
            user=member,
            actor=by,
            account=account,
            role=str(role),
        )
        context = {
            "account": account,
            "by": by,
            "member": member,
            "sso": member.is_sso,
            # A re-add resets the member's sign-in: the email says so, why, and by whom.
            "readded": readded,
            "by_support": by.account_id != account.pk,
        }
        if not member.is_sso:
            uid = urlsafe_base64_encode(force_bytes(member.pk))
            token = tokens.invitation_tokens.make_token(member)
            context["url"] = settings.SITE_URL + reverse(
                "accounts:invite-accept", args=[uid, token]
            )
        (invitation,) = email_send_later(to=[member.email], name="invitation", context=context)
        return member, invitation


def member_remove(*, audit: Audit, member: User, by: User) -> None:
    """Remove ``member`` from their account: the user row goes, and with it every session
    (they no longer resolve to a user), sign-in link, authenticator and recovery code.
    Adding the same email again starts from nothing. The last Account Admin stays."""
    with transaction.atomic():
        _member_delete(audit=audit, member=member, by=by, keep_last_admin=True)


def _member_delete(*, audit: Audit, member: User, by: User, keep_last_admin: bool) -> None:
    account = member.account
    # Lock the account's admins so two admins removing each other can't both succeed.
    admins = list(
        User.objects.select_for_update()
        .filter(account=account, role=User.Role.ADMIN, is_active=True)
        .values_list("pk", flat=True)
    )
    if keep_last_admin and member.role == User.Role.ADMIN and set(admins) <= {member.pk}:
        raise MemberError(_("An account needs at least one Account Admin."))
    user_sessions_end(user=member)
    event_record(kind=Kind.MEMBER_REMOVED, audit=audit, user=member, actor=by, account=account)
    member.delete()


def member_readd(*, audit: Audit, member: User, by: User) -> tuple[User, OutgoingEmail]:
    """Remove ``member`` and add the same email again at once, as support does for someone
    locked out: sessions end, password and second factor are reset, an invitation is sent.
    They come back with the same team, role and name, in one transaction: so this also
    works for a team's only Account Admin (who comes back as its Account Admin)."""
    account, email, role, identity, name = (
        member.account,
        member.email,
        member.role,
        member.identity,
        member.name,
    )
    with transaction.atomic():
        _member_delete(audit=audit, member=member, by=by, keep_last_admin=False)
        return member_invite(
            audit=audit,
            account=account,
            email=email,
            by=by,
            role=role,
            identity=identity,
            name=name,
        )
