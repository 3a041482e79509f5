"""commissions tables: the merchant's commission rules (the program's `commissions` section)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["CommissionPolicy"]


class CommissionPolicy(models.Model):
    """The `commissions` section as last applied: `{per_card, per_topup: {every, amount},
    ladder: [{members, bonus}]}` (API.md §12); the figures are computed from what happened."""

    merchant = models.OneToOneField(
        "tenancy.Merchant", on_delete=models.CASCADE, related_name="commission_policy"
    )
    rules = models.JSONField(_("rules"), default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("commission rules")

    def __str__(self) -> str:
        return f"commissions of merchant {self.merchant_id}"
