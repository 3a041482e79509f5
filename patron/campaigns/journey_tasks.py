"""The scheduler's and the journeys' jobs (thin wrappers; the work is in schedules and
journeys). Every one is safe to run twice: occurrences are unique per campaign and member."""

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from patron.campaigns import journeys, schedules
from patron.tenancy.models import Merchant


@db_periodic_task(crontab(minute="*"))
def start_due_runs() -> int:
    """Every minute: one-off and recurring campaigns whose time has come start their run."""
    return schedules.start_due_runs(timezone.now())


@db_periodic_task(crontab(minute="*"))
def send_due_journey_steps() -> int:
    """Every minute: contacts that waited (thanks a few hours after a sale) go out."""
    return journeys.send_due_steps(timezone.now())


@db_periodic_task(crontab(minute="5"))
def greet_birthdays_hourly() -> int:
    """Hourly at :05; each merchant's birthdays from 09:00 in its zone. A later run the same
    day (or one after a worker was down in the morning) contacts only who was missed."""
    now = timezone.now()
    return sum(journeys.greet_birthdays(m, now) for m in Merchant.objects.order_by("pk"))


@db_periodic_task(crontab(minute="*/5"))
def follow_up_complaints() -> int:
    """Every five minutes: complaints recorded since are followed up by running journeys."""
    now = timezone.now()
    return sum(journeys.follow_up_complaints(m, now) for m in Merchant.objects.order_by("pk"))
