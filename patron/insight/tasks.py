"""Scheduled insight jobs (thin wrappers; the work is in refresh and the steps it runs)."""

from zoneinfo import ZoneInfo

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from patron.insight.refresh import refresh
from patron.tenancy.models import Merchant

REFRESH_HOUR = 4  # after the tier review (03:30): stats, lifecycle, RFM and value at 04:10


@db_periodic_task(crontab(minute="10"))
def refresh_insight_nightly() -> int:
    """Hourly at :10, refreshing the merchants for whom it is now 04:xx (any time zone)."""
    now = timezone.now()
    refreshed = 0
    for merchant in Merchant.objects.order_by("pk"):
        if now.astimezone(ZoneInfo(merchant.timezone)).hour == REFRESH_HOUR:
            refresh(merchant, now)
            refreshed += 1
    return refreshed
