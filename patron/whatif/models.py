from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Simulation(models.Model):
    """A replay asked for a long range (API.md §13: more than 31 days), run as a job; its
    answer is kept here for the asker to fetch (`GET /program/simulate/{id}`, the console's
    what-if page). Short ranges are answered at once and leave no row."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    api_key = models.ForeignKey("tenancy.ApiKey", null=True, blank=True, on_delete=models.SET_NULL)
    channel = models.CharField(max_length=20, default="api")
    first_day = models.DateField(_("from"))
    last_day = models.DateField(_("to"))
    store = models.ForeignKey("tenancy.Store", null=True, blank=True, on_delete=models.CASCADE)
    document = models.JSONField()  # the draft program file
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    result = models.JSONField(null=True, blank=True)  # jobs.answer(): the contract and more
    failure = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["merchant", "-created_at"], name="whatif_sim_newest")]

    def __str__(self) -> str:
        return f"{self.first_day} – {self.last_day}"
