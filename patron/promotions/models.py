"""Tiers, promotions, coupon templates and issued coupons (F-10, F-11, F-21, F-25, F-26).

Tiers, promotions and coupon templates are configured by the program file (sections `tiers`,
`promotions`, `coupon_templates`): rows are never deleted, a row missing from an applied
section is ended (`is_active=False`) and kept for history and reports. Conditions and
benefits are stored as the normalised JSON the program section produces, in the shape of the
pricing engine's dataclasses (`patron.engine.pricing.Condition` / `Benefit`), so turning a row
into what the engine needs is a plain conversion.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from patron.tenancy.models import run_by_store


class Stacking(models.TextChoices):
    STACKABLE = "stackable", _("Stackable")
    EXCLUSIVE = "exclusive", _("Exclusive")


class Tier(models.Model):
    """A membership tier. Members whose `tier` is empty are on the active tier of rank 0."""

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE, related_name="tiers")
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    rank = models.PositiveIntegerField(_("rank"), default=0)
    # {category: percent of price}: 88 = members pay 88 % (8.8折) on that category.
    discount = models.JSONField(_("discount"), default=dict, blank=True)
    points_multiplier_percent = models.PositiveIntegerField(_("points multiplier"), default=100)
    # Any one threshold reached moves a member up ({spend_12m: fen, visits_12m: n, ...}).
    upgrade_when = models.JSONField(_("upgrade when"), default=dict, blank=True)
    # The same keys: a member below all of them for `grace_days` drops one rank (F-11).
    keep_when = models.JSONField(_("keep when"), default=dict, blank=True)
    grace_days = models.PositiveIntegerField(_("grace days"), default=30)
    # {points: n} and/or {coupon: template code}: given on the member's birthday.
    birthday_gift = models.JSONField(_("birthday gift"), default=dict, blank=True)
    # Free-text privileges shown to the member and the cashier (["免费早餐", "延迟退房"]).
    privileges = models.JSONField(_("privileges"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("tier")
        ordering = ["rank", "code"]
        constraints = [models.UniqueConstraint(fields=["merchant", "code"], name="uniq_tier_code")]
        indexes = [models.Index(fields=["merchant", "is_active", "rank"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class TierChange(models.Model):
    """Every change of a member's tier, with why (F-10, F-11): rules, reviews, paid
    memberships, a card product, staff by hand, an import."""

    class Reason(models.TextChoices):
        UPGRADE = "upgrade", _("Reached an upgrade threshold")
        DOWNGRADE = "downgrade", _("Below the keep threshold after the grace period")
        PAID = "paid", _("Paid membership")
        PAID_EXPIRED = "paid_expired", _("Paid membership ended")
        CARD_PRODUCT = "card_product", _("Card product")
        FIRST_DEPOSIT = "first_deposit", _("First deposit")
        MANUAL = "manual", _("Set by staff")
        IMPORT = "import", _("Imported")

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    member = models.ForeignKey(
        "members.Member", on_delete=models.CASCADE, related_name="tier_changes"
    )
    from_tier = models.ForeignKey(
        Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_tier = models.ForeignKey(
        Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    # What moved it, in words or figures ({"spend_12m": 100000}, the staff's reason …).
    detail = models.JSONField(default=dict, blank=True)
    note = models.CharField(max_length=200, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("changed at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["merchant", "member", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.from_tier_id} -> {self.to_tier_id}"


class Promotion(models.Model):
    """An automatic or code promotion (API.md §4). Coupons come from `CouponTemplate`."""

    class Kind(models.TextChoices):
        AUTOMATIC = "automatic", _("Automatic")
        CODE = "code", pgettext_lazy("promotion kind", "Code")

    merchant = models.ForeignKey(
        "tenancy.Merchant", on_delete=models.CASCADE, related_name="promotions"
    )
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    owner_store = run_by_store()
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    members_only = models.BooleanField(_("members only"), default=False)
    condition = models.JSONField(_("condition"), default=dict, blank=True)
    benefit = models.JSONField(_("benefit"))
    stacking = models.CharField(
        _("stacking"), max_length=10, choices=Stacking.choices, default=Stacking.STACKABLE
    )
    priority = models.IntegerField(_("priority"), default=100)
    # The condition's time window again, as columns: lists and reports filter on them.
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    # Paused (program file `paused: true`): kept in the program, not applied at the till.
    paused = models.BooleanField(_("paused"), default=False)
    # {total, per_member, per_member_per_day}, each given a positive integer (API.md §11);
    # counted in PromotionStock and PromotionUse (promotions/limits.py).
    limits = models.JSONField(_("limits"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("promotion")
        ordering = ["priority", "code"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "code"], name="uniq_promotion_code")
        ]
        indexes = [models.Index(fields=["merchant", "is_active", "ends_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class CouponTemplate(models.Model):
    """What a coupon gives and for how long; coupons are issued from it to members."""

    merchant = models.ForeignKey(
        "tenancy.Merchant", on_delete=models.CASCADE, related_name="coupon_templates"
    )
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    owner_store = run_by_store()
    condition = models.JSONField(_("condition"), default=dict, blank=True)
    benefit = models.JSONField(_("benefit"))
    stacking = models.CharField(
        _("stacking"), max_length=10, choices=Stacking.choices, default=Stacking.STACKABLE
    )
    priority = models.IntegerField(_("priority"), default=100)
    # Either N days from the day of issue, or one fixed window for every coupon.
    valid_days = models.PositiveIntegerField(_("valid days"), null=True, blank=True)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    per_member_limit = models.PositiveIntegerField(_("per member limit"), null=True, blank=True)
    stock = models.PositiveIntegerField(_("stock"), null=True, blank=True)
    # Bumped by a conditional UPDATE when a coupon is issued, so stock is never oversold.
    issued_count = models.PositiveIntegerField(_("issued"), default=0)
    # Paused (program file `paused: true`): no new coupons are issued from it.
    paused = models.BooleanField(_("paused"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("coupon template")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "code"], name="uniq_coupon_template_code"),
            models.CheckConstraint(
                condition=(
                    models.Q(
                        valid_days__isnull=False, valid_from__isnull=True, valid_until__isnull=True
                    )
                    | models.Q(
                        valid_days__isnull=True, valid_from__isnull=False, valid_until__isnull=False
                    )
                ),
                name="coupon_template_one_validity",
            ),
        ]
        indexes = [models.Index(fields=["merchant", "is_active"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def remaining(self) -> int | None:
        """Coupons that may still be issued; None when the stock is unlimited."""
        if self.stock is None:
            return None
        return max(self.stock - self.issued_count, 0)


class CouponStatus(models.TextChoices):
    AVAILABLE = "available", _("Available")
    USED = "used", _("Used")
    ENDED = "ended", _("Ended")


class Coupon(models.Model):
    """One coupon issued to one member. `code` is what the member shows at the till."""

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE, related_name="+")
    template = models.ForeignKey(
        CouponTemplate,
        verbose_name=_("coupon template"),
        on_delete=models.PROTECT,
        related_name="coupons",
    )
    member = models.ForeignKey(
        "members.Member", verbose_name=_("member"), on_delete=models.CASCADE, related_name="coupons"
    )
    code = models.CharField(_("code"), max_length=12, unique=True)
    status = models.CharField(
        _("status"), max_length=10, choices=CouponStatus.choices, default=CouponStatus.AVAILABLE
    )
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))  # exclusive
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    # The sale that used it, as the sales app names it (no FK: sales depends on promotions).
    used_in = models.CharField(_("used in"), max_length=64, blank=True)
    # The caller's idempotency key: the same key issues the same coupon once.
    issue_key = models.CharField(max_length=255, null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    issued_by_api_key = models.ForeignKey(
        "tenancy.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(_("channel"), max_length=20, default="console")

    class Meta:
        verbose_name = _("coupon")
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "issue_key"],
                condition=models.Q(issue_key__isnull=False),
                name="uniq_coupon_issue_key",
            )
        ]
        indexes = [
            models.Index(fields=["member", "status", "valid_until"]),
            models.Index(fields=["template", "member"]),
        ]

    def __str__(self) -> str:
        return self.code


class PromotionStock(models.Model):
    """Applications of a limited promotion held by committed sales, all buyers together.

    Only ever changed by one guarded statement (promotions/limits.py): `sold + n <= total` is
    checked and written at once, so concurrent sales never take more than `total`."""

    promotion = models.OneToOneField(
        Promotion, on_delete=models.CASCADE, primary_key=True, related_name="stock"
    )
    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE, related_name="+")
    sold = models.PositiveIntegerField(_("sold"), default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(sold__gte=0), name="promotion_stock_sold")
        ]

    def __str__(self) -> str:
        return f"{self.promotion_id}: {self.sold}"


class PromotionUse(models.Model):
    """One member's applications of a limited promotion: in all (`period` "all") and on one
    day in the merchant's zone (`period` "2027-03-02"); changed like PromotionStock."""

    ALL = "all"

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE, related_name="+")
    promotion = models.ForeignKey(Promotion, on_delete=models.CASCADE, related_name="uses")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    period = models.CharField(max_length=10)
    used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["promotion", "member", "period"], name="uniq_promotion_use"
            ),
            models.CheckConstraint(condition=models.Q(used__gte=0), name="promotion_use_used"),
        ]

    def __str__(self) -> str:
        return f"{self.promotion_id}/{self.member_id}/{self.period}: {self.used}"


class LimitTake(models.Model):
    """What one committed sale took from a limited promotion, so that its refunds give back
    exactly that: `units` taken, `returned` given back so far; `skus` / `categories` are the
    lines it counted (both empty: one per sale, given back by the full refund)."""

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE, related_name="+")
    promotion = models.ForeignKey(Promotion, on_delete=models.CASCADE, related_name="takes")
    # The sale as the sales app numbers it (no FK: sales depends on promotions).
    sale_id = models.BigIntegerField()
    member = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    period = models.CharField(max_length=10)  # the sale's day in the merchant's zone
    units = models.PositiveIntegerField()
    returned = models.PositiveIntegerField(default=0)
    skus = models.JSONField(default=list, blank=True)
    categories = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sale_id", "promotion"], name="uniq_limit_take"),
            models.CheckConstraint(
                condition=models.Q(returned__lte=models.F("units")), name="limit_take_returned"
            ),
        ]

    def __str__(self) -> str:
        return f"sale {self.sale_id}: {self.units} of {self.promotion_id}"


class StoreActivityLimits(models.Model):
    """What HQ lets a store manager run as the store's own activities (program file
    `store_activities`, F-41; docs/promotions.md). No row: store managers may run none."""

    merchant = models.OneToOneField(
        "tenancy.Merchant", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    allowed = models.BooleanField(default=False)
    benefit_types = models.JSONField(default=list, blank=True)  # empty: percent and fixed
    max_percent_off = models.PositiveSmallIntegerField(null=True, blank=True)
    max_amount_off = models.BigIntegerField(null=True, blank=True)  # fen
    coupons = models.BooleanField(default=True)
    campaigns = models.BooleanField(default=False)
    max_live = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"store activities of {self.merchant_id}"
