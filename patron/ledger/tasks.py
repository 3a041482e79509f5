"""Scheduled ledger jobs (thin wrappers; the work is in services)."""

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from patron.ledger.services import expire_due_lots, release_due_holds


@db_periodic_task(crontab(minute="5"))
def expire_points_hourly() -> tuple[int, int]:
    """Hourly, so each merchant's midnight (any time zone) is swept within the hour."""
    now = timezone.now()
    return release_due_holds(now), expire_due_lots(now)
