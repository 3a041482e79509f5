"""Scheduled ledger jobs (thin wrappers; the work is in services)."""

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from patron.ledger.reminders import announce_expiring
from patron.ledger.services import expire_due_lots, release_due_holds


@db_periodic_task(crontab(minute="5"))
def expire_points_hourly() -> tuple[int, int]:
    """Hourly, so each merchant's midnight (any time zone) is swept within the hour."""
    now = timezone.now()
    return release_due_holds(now), expire_due_lots(now)


@db_periodic_task(crontab(hour="1", minute="20"))
def announce_expiring_points_daily() -> int:
    """Daily at 09:20 in China (01:20 UTC): members hear of points expiring in 30 and 7 days
    in the morning; campaigns hold anything that would land in quiet hours anyway."""
    return announce_expiring()
