"""Sales, their lines, refunds, member statistics and the member's payment PIN (F-20 … F-24).

A Sale row is written once, with what the engine priced on the server, in the same database
transaction as the ledger postings it causes (points spent, stored value paid, points earned)
and the coupons it consumes. Refunds never change a sale's lines: they add Refund rows and
count refunded quantities, so every figure of the original receipt stays reproducible.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class CheckoutPolicy(models.Model):
    """The merchant's checkout settings (program file section `checkout`)."""

    merchant = models.OneToOneField(
        "tenancy.Merchant", on_delete=models.CASCADE, related_name="checkout_policy"
    )
    # Stored value payments above this many fen need the member's PIN; None: never.
    pin_required_above = models.BigIntegerField(null=True, blank=True)
    pin_max_attempts = models.PositiveSmallIntegerField(default=5)
    pin_lock_minutes = models.PositiveIntegerField(default=30)
    backdate_days = models.PositiveSmallIntegerField(default=30)
    # never / full_refund (coupons come back when the whole sale is refunded)
    refund_returns_coupons = models.CharField(max_length=12, default="full_refund")

    def __str__(self) -> str:
        return f"checkout policy {self.merchant_id}"


class MemberPin(models.Model):
    """The member's payment PIN (hashed) and its failed-attempt counter."""

    member = models.OneToOneField(
        "members.Member", on_delete=models.CASCADE, primary_key=True, related_name="pin"
    )
    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    pin_hash = models.CharField(max_length=200)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    locked_until = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"PIN of member {self.member_id}"


class Sale(models.Model):
    class Status(models.TextChoices):
        COMPLETED = "completed", _("Completed")
        PARTLY_REFUNDED = "partly_refunded", _("Partly refunded")
        REFUNDED = "refunded", _("Refunded")

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.PROTECT)
    member = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.PROTECT, related_name="sales"
    )
    store = models.ForeignKey("tenancy.Store", on_delete=models.PROTECT)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    api_key = models.ForeignKey("tenancy.ApiKey", null=True, blank=True, on_delete=models.SET_NULL)
    channel = models.CharField(max_length=20, default="api")
    idempotency_key = models.CharField(max_length=255)
    occurred_at = models.DateTimeField(_("time"))
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.COMPLETED)
    subtotal = models.BigIntegerField(_("subtotal"))
    member_discount = models.BigIntegerField(default=0)
    discount = models.BigIntegerField(_("discount"))
    points_redeemed = models.BigIntegerField(default=0)
    points_value = models.BigIntegerField(default=0)
    total = models.BigIntegerField(_("total"))
    stored_value_paid = models.BigIntegerField(default=0)
    cash_due = models.BigIntegerField(default=0)
    points_earned = models.BigIntegerField(default=0)
    points_pending = models.BooleanField(default=False)  # earned points wait for the return window
    saved = models.BigIntegerField(default=0)
    codes = models.JSONField(default=list, blank=True)
    # Ledger movements this sale caused (None when there was nothing to move).
    points_spend = models.ForeignKey(
        "ledger.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    stored_value_payment = models.ForeignKey(
        "ledger.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    points_earn = models.ForeignKey(
        "ledger.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    points_hold = models.ForeignKey(
        "ledger.PointsHold", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "idempotency_key"], name="uniq_sale_key"),
            models.CheckConstraint(
                condition=models.Q(total__gte=0), name="sale_total_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "occurred_at"]),
            models.Index(fields=["merchant", "store", "occurred_at"]),
            models.Index(fields=["member", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"sale {self.pk}"


class SaleLine(models.Model):
    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="lines")
    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.PROTECT)
    position = models.PositiveSmallIntegerField()
    sku = models.CharField(_("SKU"), max_length=64)
    name = models.CharField(_("item"), max_length=100, blank=True)
    category = models.CharField(_("category"), max_length=40, blank=True)
    brand = models.CharField(_("brand"), max_length=60, blank=True)
    model = models.CharField(_("model"), max_length=60, blank=True)
    size = models.CharField(_("size"), max_length=30, blank=True)
    colour = models.CharField(_("colour"), max_length=30, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.BigIntegerField(_("unit price"))
    member_price = models.BigIntegerField(_("member price"))
    discount = models.BigIntegerField(_("discount"))
    points_offset = models.BigIntegerField(default=0)
    total = models.BigIntegerField(_("total"))
    points_earned = models.BigIntegerField(default=0)
    gift = models.BooleanField(default=False)
    refunded_quantity = models.PositiveIntegerField(default=0)
    # Copied from the sale so line analysis (by store, staff, time) needs no join.
    store = models.ForeignKey("tenancy.Store", on_delete=models.PROTECT)
    occurred_at = models.DateTimeField()

    class Meta:
        verbose_name = _("sale line")
        verbose_name_plural = _("sale lines")
        ordering = ["sale", "position"]
        indexes = [
            models.Index(fields=["merchant", "sku", "occurred_at"]),
            models.Index(fields=["merchant", "category", "occurred_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(refunded_quantity__lte=models.F("quantity")),
                name="line_refund_within_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku} x {self.quantity}"


class SaleDiscount(models.Model):
    """One promotion or coupon applied to a sale, with what it took off."""

    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="discounts")
    code = models.CharField(max_length=64)
    kind = models.CharField(max_length=12)  # automatic / code / coupon
    name = models.CharField(max_length=100, blank=True)
    benefit = models.CharField(max_length=20, blank=True)
    amount = models.BigIntegerField()
    coupon = models.ForeignKey(
        "promotions.Coupon", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    returned = models.BooleanField(default=False)  # the coupon was given back on a refund

    def __str__(self) -> str:
        return f"{self.code} -{self.amount}"


class Refund(models.Model):
    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.PROTECT)
    sale = models.ForeignKey(Sale, on_delete=models.PROTECT, related_name="refunds")
    idempotency_key = models.CharField(max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    api_key = models.ForeignKey("tenancy.ApiKey", null=True, blank=True, on_delete=models.SET_NULL)
    channel = models.CharField(max_length=20, default="api")
    store = models.ForeignKey("tenancy.Store", null=True, blank=True, on_delete=models.PROTECT)
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    amount = models.BigIntegerField()  # what the refunded lines cost after discounts and points
    cash_refunded = models.BigIntegerField(default=0)
    stored_value_returned = models.BigIntegerField(default=0)
    points_returned = models.BigIntegerField(default=0)  # redeemed points given back
    points_reversed = models.BigIntegerField(default=0)  # earned points taken back
    points_shortfall = models.BigIntegerField(default=0)  # earned points already used
    coupons_returned = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "idempotency_key"], name="uniq_refund_key"),
        ]

    def __str__(self) -> str:
        return f"refund {self.pk} of sale {self.sale_id}"


class RefundLine(models.Model):
    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="lines")
    sale_line = models.ForeignKey(SaleLine, on_delete=models.PROTECT, related_name="refunds")
    quantity = models.PositiveIntegerField()
    amount = models.BigIntegerField()
    points_offset = models.BigIntegerField(default=0)
    points_earned = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.sale_line_id} x {self.quantity}"


class MemberStats(models.Model):
    """Running purchase figures per member, updated in the sale transaction (DESIGN.md §5)."""

    member = models.OneToOneField(
        "members.Member", on_delete=models.CASCADE, primary_key=True, related_name="stats"
    )
    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    total_spend = models.BigIntegerField(default=0)  # fen paid, net of refunds
    visits = models.PositiveIntegerField(default=0)
    refunds = models.PositiveIntegerField(default=0)
    first_visit_at = models.DateTimeField(null=True, blank=True)
    last_visit_at = models.DateTimeField(null=True, blank=True)
    average_ticket = models.BigIntegerField(default=0)
    points_earned = models.BigIntegerField(default=0)
    saved = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["merchant", "last_visit_at"]),
            models.Index(fields=["merchant", "total_spend"]),
        ]

    def __str__(self) -> str:
        return f"stats of member {self.member_id}"


class PastSalesRevision(models.Model):
    """How many times a merchant's sales already summed by day were changed (a walk-in's sale
    given to a new member): the console home keeps the sums of past days under this number
    (core.settled), so a change sums them again."""

    merchant = models.OneToOneField(
        "tenancy.Merchant", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    revision = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"sales revision {self.revision} of merchant {self.merchant_id}"


class SaleTender(models.Model):
    """How the part of a sale not paid by stored value or points was paid (API.md §3
    `tenders`): one row per method, their amounts adding up to the sale's `cash_due`. A sale
    with nothing due has none; a sale that named no tenders has one cash row."""

    sale = models.ForeignKey(Sale, on_delete=models.CASCADE, related_name="tenders")
    position = models.PositiveSmallIntegerField()
    method = models.CharField(max_length=12)  # patron.ledger.payments.METHODS
    amount = models.BigIntegerField()
    # Cash only: what the customer handed over (None when not given) and the change given.
    tendered = models.BigIntegerField(null=True, blank=True)
    change = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["sale", "position"]
        constraints = [
            models.UniqueConstraint(fields=["sale", "method"], name="uniq_sale_tender_method"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="sale_tender_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.amount}"


class RefundTender(models.Model):
    """What a refund gave back by each of the sale's tenders."""

    refund = models.ForeignKey(Refund, on_delete=models.CASCADE, related_name="tenders")
    sale_tender = models.ForeignKey(SaleTender, on_delete=models.PROTECT, related_name="refunds")
    method = models.CharField(max_length=12)
    amount = models.BigIntegerField()

    class Meta:
        ordering = ["refund", "sale_tender__position"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_tender_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.method} -{self.amount}"
