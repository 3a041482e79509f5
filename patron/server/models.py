from django.db import models


class JobRun(models.Model):
    """The last run of each background job, one row per task (`ledger.expire_points_hourly`).

    Written by the job worker from huey's signals (jobs.py), read by `/healthz`: an hourly
    job that stopped running, or keeps failing, shows here instead of failing silently.
    """

    name = models.CharField(max_length=200, unique=True)
    last_run = models.DateTimeField()
    ok = models.BooleanField()
    error = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.last_run:%Y-%m-%d %H:%M} ({'ok' if self.ok else 'failed'})"
