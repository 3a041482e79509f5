"""The outbox's jobs: dispatch when a transaction with events commits, and a sweep every
minute for whatever a lost wake-up left behind (a worker that was down, a crash)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from patron.events.dispatch import dispatch_pending
from patron.events.webhook_tasks import send_due_webhooks, send_due_webhooks_sweep  # noqa: F401


@db_task()
def dispatch_outbox() -> int:
    return dispatch_pending()


@db_periodic_task(crontab(minute="*"))
def dispatch_outbox_sweep() -> int:
    return dispatch_pending()
