"""Sending webhook deliveries (the webhooks part fills this in)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


def send_due() -> int:
    """POST every delivery that is due; the number sent. Filled in by the webhooks part."""
    return 0


@db_task()
def send_due_webhooks() -> int:
    return send_due()


@db_periodic_task(crontab(minute="*"))
def send_due_webhooks_sweep() -> int:
    return send_due()
