"""Scheduled member jobs (thin wrappers; the work is in the import module's services)."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from patron.members.importing.uploads import purge_stale_uploads, run_confirmed_import


@db_periodic_task(crontab(minute="35"))
def purge_import_uploads_hourly() -> int:
    """Previewed member files nobody confirmed within a day hold personal data: delete them."""
    return purge_stale_uploads()


@db_task()
def import_confirmed_upload(batch_id: int) -> None:
    """A console upload the operator confirmed: import it, its progress on the batch."""
    run_confirmed_import(batch_id)
