"""The member-only events' scheduled job (imported by event_wiring; huey discovers only
`tasks` modules)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from patron.activities import events_service


@db_periodic_task(crontab(minute="7"))
def remind_event_signups() -> int:
    """Hourly: the day before an event (from 10:00 in each merchant's zone, so every zone is
    served), its confirmed members are reminded, once per sign-up."""
    return events_service.send_reminders()
