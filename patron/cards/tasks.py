"""Scheduled card jobs (thin wrappers; the work is in services)."""

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from patron.cards.memberships import expire_due


@db_periodic_task(crontab(minute="*/15"))
def expire_memberships() -> int:
    """Every quarter hour: a paid tier ends within minutes of its period's end."""
    return expire_due(timezone.now())
