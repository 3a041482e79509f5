"""Tables of the lottery part (API.md §11 `lotteries`): lotteries with a budget in fen, their
prizes with odds and optional stock, the odds as published at each change, and every draw with
the seed that picked its prize (so a draw can be audited and replayed).

The budget and each prize's stock are counters moved by guarded UPDATEs (`spent + value <=
budget`, `given < stock`): never read-then-write, so no concurrency can overspend them.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["Lottery", "LotteryPrize", "LotteryOdds", "Draw", "DrawDay", "PrizeKind", "Outcome"]


class PrizeKind(models.TextChoices):
    POINTS = "points", _("Points")
    COUPON = "coupon", _("Coupon")
    NONE = "none", _("No prize")


class Outcome(models.TextChoices):
    """What became of the prize the seed drew."""

    GIVEN = "given", _("Given")
    NO_PRIZE = "no_prize", _("No prize drawn")
    BUDGET_SPENT = "budget_spent", _("Budget spent: no prize")
    OUT_OF_STOCK = "out_of_stock", _("Prize out of stock: no prize")
    COUPON_REFUSED = "coupon_refused", _("Coupon could not be issued: no prize")


class Lottery(models.Model):
    merchant = models.ForeignKey(
        "tenancy.Merchant", on_delete=models.CASCADE, related_name="lotteries"
    )
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    cost_points = models.PositiveIntegerField(_("cost in points"), default=0)
    daily_limit = models.PositiveIntegerField(_("draws per member per day"), null=True, blank=True)
    budget = models.BigIntegerField(_("budget (fen)"))
    spent = models.BigIntegerField(_("spent (fen)"), default=0)
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    odds_version = models.PositiveIntegerField(_("odds version"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("lottery")
        verbose_name_plural = _("lotteries")
        constraints = [
            models.UniqueConstraint(fields=["merchant", "code"], name="uniq_lottery_code"),
            models.CheckConstraint(
                condition=models.Q(spent__gte=0) & models.Q(spent__lte=models.F("budget")),
                name="lottery_spent_within_budget",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def left(self) -> int:
        return self.budget - self.spent


class LotteryPrize(models.Model):
    lottery = models.ForeignKey(Lottery, on_delete=models.CASCADE, related_name="prizes")
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=PrizeKind.choices)
    points = models.PositiveIntegerField(_("points"), null=True, blank=True)
    coupon = models.CharField(_("coupon template"), max_length=32, blank=True)
    value = models.BigIntegerField(_("value (fen)"), default=0)
    odds = models.DecimalField(_("odds (%)"), max_digits=7, decimal_places=4)
    stock = models.PositiveIntegerField(_("stock"), null=True, blank=True)
    given = models.PositiveIntegerField(_("given"), default=0)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["lottery", "code"], name="uniq_lottery_prize_code"),
            models.CheckConstraint(
                condition=models.Q(stock__isnull=True) | models.Q(given__lte=models.F("stock")),
                name="lottery_prize_within_stock",
            ),
        ]

    def __str__(self) -> str:
        return self.name or self.code


class LotteryOdds(models.Model):
    """The odds as they were published from one change of the program to the next: a draw
    names the version it used, so its seed replays against exactly these shares."""

    lottery = models.ForeignKey(Lottery, on_delete=models.CASCADE, related_name="odds_versions")
    version = models.PositiveIntegerField()
    # [[code, millionths], ...] in drawing order
    shares = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lottery", "version"], name="uniq_lottery_odds_version")
        ]

    def __str__(self) -> str:
        return f"{self.lottery_id} v{self.version}"


class Draw(models.Model):
    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE, related_name="+")
    lottery = models.ForeignKey(Lottery, on_delete=models.PROTECT, related_name="draws")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    odds = models.ForeignKey(LotteryOdds, on_delete=models.PROTECT, related_name="draws")
    seed = models.CharField(_("seed"), max_length=64)
    drawn = models.CharField(_("prize drawn"), max_length=32)  # what the seed picked
    prize_code = models.CharField(_("prize"), max_length=32)  # what the member got
    prize_kind = models.CharField(_("kind"), max_length=10, choices=PrizeKind.choices)
    value = models.BigIntegerField(_("value (fen)"), default=0)
    points = models.PositiveIntegerField(default=0)
    coupon = models.ForeignKey(
        "promotions.Coupon", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    cost_points = models.PositiveIntegerField(default=0)
    idempotency_key = models.CharField(max_length=255)
    channel = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "idempotency_key"], name="uniq_draw_idempotency_key"
            )
        ]
        indexes = [models.Index(fields=["lottery", "created_at"])]

    def __str__(self) -> str:
        return f"draw {self.pk}"


class DrawDay(models.Model):
    """How many draws a member made on a lottery on one day of the merchant's zone: one
    guarded UPDATE takes a draw from the daily limit, whatever the concurrency."""

    lottery = models.ForeignKey(Lottery, on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lottery", "member", "day"], name="uniq_draw_day")
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.count}"
