"""The mail worker: django-tasks-db's worker, kept alive through what a long-running process
meets in production.

- A worker killed in the middle of a task (SIGKILL, a lost machine) leaves the task RUNNING
  for ever. A task RUNNING for longer than TWOFACTOR_EMAIL_VISIBILITY_SECONDS is put back in
  the queue and the next worker sends it: at least once, so a member may get an email twice
  when a worker dies after the mail server took it and before the row said so, and never
  misses one. The visibility timeout must exceed the longest send (EMAIL_TIMEOUT per reply).
- PostgreSQL restarted or our connections ended under it: the error is logged by its type,
  the connections are dropped and the worker tries again after its interval.
"""

from __future__ import annotations

import contextlib
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.compat import DEFAULT_TASK_BACKEND_ALIAS, TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger("twofactor.email")


def tasks_requeue_abandoned(*, backend_name: str = DEFAULT_TASK_BACKEND_ALIAS) -> int:
    """Put back the tasks a dead worker left RUNNING; how many."""
    cutoff = timezone.now() - timedelta(seconds=settings.TWOFACTOR_EMAIL_VISIBILITY_SECONDS)
    requeued = DBTaskResult.objects.filter(
        backend_name=backend_name, status=TaskResultStatus.RUNNING, started_at__lt=cutoff
    ).update(status=TaskResultStatus.READY, started_at=None)
    if requeued:
        logger.warning("requeued %d task(s) abandoned by a worker", requeued)
    return requeued


def _worker() -> Worker:
    return Worker(
        queue_names=["*"],
        excluded_queue_names=[],
        interval=0,
        batch=True,  # one pass over what is ready; the loop below sweeps and sleeps
        backend_name=DEFAULT_TASK_BACKEND_ALIAS,
        startup_delay=False,
        max_tasks=None,
        worker_id=get_random_string(32),
    )


def tasks_run_ready() -> None:
    """Run every task that is ready now, in this process (tests, ``mail_worker --batch``)."""
    tasks_requeue_abandoned()
    _worker().run()


def mail_worker_run(*, interval: float) -> None:
    """Run until SIGTERM or SIGINT (finishing the task in hand)."""
    worker = _worker()
    worker.configure_signals()
    logger.info("mail worker started")
    while worker.running:
        try:
            close_old_connections()
            tasks_requeue_abandoned()
            worker.run()
        except DatabaseError as exc:
            logger.warning("mail worker: database unavailable (%s), retrying", type(exc).__name__)
            for connection in connections.all():
                with contextlib.suppress(DatabaseError):  # gone: the next query reconnects
                    connection.close()
        if worker.running:
            time.sleep(interval)
