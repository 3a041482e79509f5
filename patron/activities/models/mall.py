"""Tables of the points mall: rewards (section `rewards`), redemptions and the cash part paid."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

__all__ = ["MallPayment", "Redemption", "Reward"]


class Reward(models.Model):
    """Something members buy with points (and an optional cash part), as the program names it.

    `stock` is how many units are offered in all (None: unlimited); `redeemed_count` counts the
    redemptions not cancelled, moved by guarded updates only, so what is left is exact.
    """

    class Kind(models.TextChoices):
        COUPON = "coupon", _("Coupon")
        GOODS = "goods", _("Goods")

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE, related_name="+")
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    points = models.PositiveIntegerField(_("points"))
    cash = models.BigIntegerField(_("cash part"), default=0)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    coupon = models.CharField(_("coupon template"), max_length=32, blank=True)
    stock = models.PositiveIntegerField(_("stock"), null=True, blank=True)
    per_member = models.PositiveIntegerField(_("per member"), null=True, blank=True)
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    description = models.CharField(_("description"), max_length=500, blank=True)
    image = models.CharField(_("image"), max_length=500, blank=True)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(_("active"), default=True)
    redeemed_count = models.PositiveIntegerField(_("redeemed"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("reward")
        ordering = ["position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "code"], name="uniq_reward_code"),
            models.CheckConstraint(
                condition=models.Q(stock__isnull=True)
                | models.Q(redeemed_count__lte=models.F("stock")),
                name="reward_within_stock",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def left(self) -> int | None:
        """Units still to be had (None: unlimited)."""
        if self.stock is None:
            return None
        return max(self.stock - self.redeemed_count, 0)

    def is_open(self, now=None) -> bool:
        now = now or timezone.now()
        return (
            self.is_active
            and (self.starts_at is None or self.starts_at <= now)
            and (self.ends_at is None or now < self.ends_at)
        )


class Redemption(models.Model):
    """A member's points spent on one reward unit; goods wait for fulfilment, coupons are issued
    at once (the redemption stays pending until the coupon is used)."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("redemption status", "Pending")
        FULFILLED = "fulfilled", _("Fulfilled")
        CANCELLED = "cancelled", _("Cancelled")

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE, related_name="+")
    reward = models.ForeignKey(Reward, on_delete=models.PROTECT, related_name="redemptions")
    member = models.ForeignKey(
        "members.Member", on_delete=models.CASCADE, related_name="redemptions"
    )
    store = models.ForeignKey(
        "tenancy.Store", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    points = models.PositiveIntegerField(_("points spent"))
    cash_due = models.BigIntegerField(_("cash part"), default=0)
    cash_paid = models.BigIntegerField(_("cash paid"), default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    coupon = models.ForeignKey(
        "promotions.Coupon", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    spend = models.ForeignKey(
        "ledger.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    tracking_no = models.CharField(_("tracking number"), max_length=64, blank=True)
    key = models.CharField(max_length=255)
    channel = models.CharField(_("channel"), max_length=20, default="console")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("redeemed at"), default=timezone.now)
    fulfilled_at = models.DateTimeField(_("fulfilled at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("redemption")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "key"], name="uniq_redemption_key"),
        ]
        indexes = [
            models.Index(fields=["reward", "member", "status"]),
            models.Index(fields=["merchant", "status", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.reward}"

    @property
    def cash_outstanding(self) -> int:
        return max(self.cash_due - self.cash_paid, 0)


class MallPayment(models.Model):
    """The cash part of a redemption taken (or given back on cancel, negative) by one tender,
    by whom and where: the shift close counts these like a sale's tenders."""

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE, related_name="+")
    redemption = models.ForeignKey(Redemption, on_delete=models.CASCADE, related_name="payments")
    store = models.ForeignKey(
        "tenancy.Store", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    method = models.CharField(_("payment method"), max_length=16)
    amount = models.BigIntegerField(_("amount"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["merchant", "store", "user", "created_at"])]

    def __str__(self) -> str:
        return f"{self.method} {self.amount}"
