"""Scheduled wallet jobs (thin wrappers; the work is in reminders)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from patron.wallet.reminders import announce_expiring


@db_periodic_task(crontab(hour="1", minute="20"))
def announce_expiring_points_daily() -> int:
    """Daily at 09:20 in China (01:20 UTC): members hear of points expiring in 30 and 7 days
    in the morning; campaigns hold anything that would land in quiet hours anyway."""
    return announce_expiring()
