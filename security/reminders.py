"""Reminder emails to members who have not yet set up the factor their team's requirement
will ask for: 7 days and 1 day before their own deadline (security.policy.member_deadline),
each once. ``manage.py send_reminders`` runs this from cron."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account, User
from security.models import RequirementReminder
from security.policy import setup_deadline
from twofactor_site.mail import email_send_later

logger = logging.getLogger("twofactor.security")

# Days before a member's deadline that they are reminded. A member whose deadline is nearer
# than the first when the requirement is set (a short grace period) gets the next one only.
REMINDER_DAYS = (7, 1)


def reminders_send() -> int:
    """Email each member whose reminder is due and not yet sent; how many were sent. A row
    per reminder is inserted before its email: a second run, or one running at the same
    moment, finds it and sends nothing (the unique constraint decides, even across hosts).
    Each email is queued with its record; the mail worker retries what a server refuses."""
    now = timezone.now()
    sent = 0
    # Teams where someone can still have a deadline ahead: a date to come, or a grace period.
    accounts = Account.objects.filter(require_totp=True).filter(
        Q(require_from__gt=now) | Q(grace_days__gt=0)
    )
    for account in accounts:
        members = account.members.filter(is_active=True, identity=User.Identity.PASSWORD)
        if account.require_from is None or account.require_from <= now:
            members = members.filter(date_joined__gt=now - timedelta(days=account.grace_days))
        for member in members.select_related("account"):
            deadline = setup_deadline(member, account=account)
            if deadline is None or deadline <= now:
                continue
            due = [days for days in REMINDER_DAYS if deadline - timedelta(days=days) <= now]
            if due and _reminder_send(member=member, deadline=deadline, days_before=min(due)):
                sent += 1
    logger.info("event=reminders_sent count=%s", sent)
    return sent


def _reminder_send(*, member: User, deadline, days_before: int) -> bool:
    """Record the reminder and queue its email in one transaction: both or neither. A mail
    server that refuses it is the mail worker's to retry (twofactor_site.mail)."""
    context = {"account": member.account, "member": member, "deadline": deadline}
    try:
        with transaction.atomic():
            RequirementReminder.objects.create(
                user=member, deadline=deadline, days_before=days_before
            )
            email_send_later(to=[member.email], name="requirement-reminder", context=context)
    except IntegrityError:
        return False  # sent already, or being sent by another run
    return True
