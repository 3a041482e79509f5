"""Scheduled member jobs (thin wrappers; the work is in the import module's services)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from patron.members.importing.uploads import purge_stale_uploads


@db_periodic_task(crontab(minute="35"))
def purge_import_uploads_hourly() -> int:
    """Previewed member files nobody confirmed within a day hold personal data: delete them."""
    return purge_stale_uploads()
