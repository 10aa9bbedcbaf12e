import datetime

import pytest
from django.core.management import CommandError
from django.utils import timezone

from security.events import event_record
from security.models import SecurityEvent
from tests.conftest import command_output


def aged(days: float, *, account=None) -> SecurityEvent:
    event = event_record(kind="password_failed", account=account, email="x@acme.test")
    moment = timezone.now() - datetime.timedelta(days=days)
    SecurityEvent.objects.filter(pk=event.pk).update(created_at=moment)
    return event


def prune(*args: str) -> str:
    return command_output("prune_security_log", *args)


def test_prune_deletes_only_events_older_than_the_setting(clock, account, settings):
    settings.TWOFACTOR_SECURITY_LOG_DAYS = 30
    old = [aged(31, account=account), aged(400), aged(30.01, account=account)]
    kept = [aged(29.99, account=account), aged(1)]
    SecurityEvent.objects.exclude(pk__in=[e.pk for e in old + kept]).delete()
    output = prune()
    assert output.startswith("Deleted 3 security events older than 30 days (before ")
    assert set(SecurityEvent.objects.values_list("pk", flat=True)) == {e.pk for e in kept}


def test_prune_default_keeps_400_days(clock, db):
    aged(401)
    kept = aged(399)
    assert "Deleted 1 security event older than 400 days" in prune()
    assert list(SecurityEvent.objects.values_list("pk", flat=True)) == [kept.pk]


def test_prune_in_small_batches_deletes_them_all_and_again_nothing(clock, db):
    for _ in range(7):
        aged(500)
    assert "Deleted 7 security events" in prune("--batch-size", "3")
    assert "Deleted 0 security events" in prune("--batch-size", "3")
    assert not SecurityEvent.objects.exists()


def test_prune_refuses_a_batch_size_below_one(db):
    with pytest.raises(CommandError, match="at least 1"):
        prune("--batch-size", "0")
