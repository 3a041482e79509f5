"""A cashier's shift at a store, closed by them with the figures frozen (交班).

A shift is opened by the cashier's first sale, refund or top-up of the day at a store (no row
until it closes), or explicitly (a row with status `open`). Closing it writes the row with
what the shift took in per tender, the cash counted and its difference from what was
expected, so later refunds or corrections never change a closed shift's slip.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Shift(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("shift status", "Open")
        CLOSED = "closed", pgettext_lazy("shift status", "Closed")

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.PROTECT)
    store = models.ForeignKey("tenancy.Store", on_delete=models.PROTECT)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    # Where the shift's window starts (what it counts is recorded at or after it): the later
    # of the start of the day and the cashier's last close at this store, or an explicit open.
    started_at = models.DateTimeField()
    opened_at = models.DateTimeField(_("opened"))  # the first sale or top-up, or the open
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Frozen on close (fen; points are points).
    sales_count = models.PositiveIntegerField(default=0)
    refunds_count = models.PositiveIntegerField(default=0)
    # {method: {"sales": fen, "refunds": fen, "net": fen}} in payments.METHODS order
    tenders = models.JSONField(default=dict, blank=True)
    topups = models.JSONField(default=dict, blank=True)  # {method: fen}
    topups_count = models.PositiveIntegerField(default=0)
    # {"groups": {card_fee | replace_fee | membership: {method: fen}}, "count": rows}
    card_payments = models.JSONField(default=dict, blank=True)
    cash_expected = models.BigIntegerField(default=0)
    cash_counted = models.BigIntegerField(null=True, blank=True)
    cash_difference = models.BigIntegerField(default=0)  # counted - expected
    points_redeemed = models.BigIntegerField(default=0)
    points_value = models.BigIntegerField(default=0)
    points_returned = models.BigIntegerField(default=0)
    stored_value_paid = models.BigIntegerField(default=0)
    stored_value_returned = models.BigIntegerField(default=0)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        constraints = [
            # One shift per cashier, store and window: a second close of the same window
            # (a double submit, two tabs) fails here and is answered "already closed".
            models.UniqueConstraint(
                fields=["merchant", "user", "store", "started_at"], name="uniq_shift_window"
            ),
        ]
        indexes = [models.Index(fields=["merchant", "store", "-closed_at"])]

    def __str__(self) -> str:
        return f"shift {self.pk} of user {self.user_id} at store {self.store_id}"
