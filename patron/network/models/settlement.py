"""Settlement between stores (F-41): closed months and the lines frozen when they closed.

An open month is computed from the ledger (and the sales' discounts) every time it is read;
closing it writes every flow it holds as a `SettlementLine`, so a closed month is read back,
never recomputed: nothing written later (a late upload, a refund) can change it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

__all__ = ["SettlementMonth", "SettlementLine"]


class SettlementMonth(models.Model):
    """A closed month of a merchant (`month` is "YYYY-MM", the merchant's local month)."""

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.PROTECT)
    month = models.CharField(_("month"), max_length=7)
    closed_at = models.DateTimeField(_("closed"))
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "month"], name="uniq_settlement_month"),
        ]

    def __str__(self) -> str:
        return self.month


class SettlementLine(models.Model):
    """One flow frozen in a closed month: `payer` owes `payee` `amount` fen (negative: an
    earlier flow undone by a refund). A store of None is HQ."""

    class Kind(models.TextChoices):
        PRINCIPAL = "principal", pgettext_lazy("settlement", "Stored value")
        ACTIVITY = "activity", pgettext_lazy("settlement", "Activity")

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.PROTECT)
    closed_month = models.ForeignKey(
        SettlementMonth, on_delete=models.PROTECT, related_name="lines"
    )
    # What the flow is, stable across recomputations:
    # "p:<transaction>:<deposit>" or "a:<sale discount>:<refund or 0>".
    key = models.CharField(max_length=64)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    payer = models.ForeignKey(
        "tenancy.Store", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payee = models.ForeignKey(
        "tenancy.Store", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount = models.BigIntegerField()
    # The ledger transaction behind a principal flow (the debit, or the credit reversing it),
    # and the deposit whose cash it is; the sale (and refund) behind either kind.
    transaction = models.ForeignKey(
        "ledger.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    deposit = models.ForeignKey(
        "ledger.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sale = models.ForeignKey(
        "sales.Sale", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    refund = models.ForeignKey(
        "sales.Refund", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    member = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    label = models.CharField(max_length=100, blank=True)  # an activity's name
    occurred_at = models.DateTimeField()
    occurred_month = models.CharField(max_length=7)  # where it would be had it come in time

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "key"], name="uniq_settlement_line_key"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.amount}"
