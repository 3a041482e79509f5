"""Scheduled card jobs (thin wrappers; the work is in services)."""

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from patron.cards import tiers
from patron.cards.memberships import expire_due
from patron.tenancy.models import Merchant


@db_periodic_task(crontab(minute="*/15"))
def expire_memberships() -> int:
    """Every quarter hour: a paid tier ends within minutes of its period's end."""
    return expire_due(timezone.now())


REVIEW_HOUR = 3  # the nightly tier review runs at 03:30 in each merchant's zone


@db_periodic_task(crontab(minute="30"))
def review_tiers_nightly() -> int:
    """Hourly at :30, reviewing the merchants for whom it is now 03:xx (any time zone)."""
    now = timezone.now()
    reviewed = 0
    for merchant in Merchant.objects.order_by("pk"):
        if now.astimezone(tiers.zone_of(merchant)).hour == REVIEW_HOUR:
            tiers.review(merchant, now)
            reviewed += 1
    return reviewed


@db_periodic_task(crontab(minute="40"))
def birthday_gifts_daily() -> int:
    """Hourly; each member's gift is given once a year (idempotency key per member-year), on
    the first run of their birthday in the merchant's zone."""
    now = timezone.now()
    return sum(tiers.birthday_gifts(merchant, now) for merchant in Merchant.objects.order_by("pk"))
