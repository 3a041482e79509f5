"""The double-entry ledger for points and stored value (DESIGN.md §3, F-13 … F-19).

Every change of value is a Transaction with >= 2 Entries that sum to zero per asset. Entries
are append-only: no UPDATE, no DELETE (refused in Python and by database triggers). Member
account balances are cached on the Account row, updated under a row lock in the same database
transaction, and a CHECK constraint keeps them >= 0. System accounts (issued, redeemed, cash…)
are not cached: every posting would otherwise queue on one hot row; their balance is the sum
of their entries.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Asset(models.TextChoices):
    POINTS = "points", _("Points")
    PRINCIPAL = "stored_value.principal", _("Stored value (principal)")
    BONUS = "stored_value.bonus", _("Stored value (bonus)")


STORED_VALUE_ASSETS = (Asset.PRINCIPAL, Asset.BONUS)


class OwnerType(models.TextChoices):
    MEMBER = "member", _("Member")
    SYSTEM = "system", _("System")


class SystemAccount(models.TextChoices):
    """The merchant's side of each movement."""

    ISSUED = "issued", _("Points issued")
    REDEEMED = "redeemed", _("Points redeemed")
    EXPIRED = "expired", _("Points expired")
    ADJUSTMENT = "adjustment", _("Manual adjustments")
    CASH = "cash", _("Cash received / paid out")
    BONUS_ISSUED = "bonus_issued", _("Bonus issued")
    SALES = "sales", _("Paid with stored value")
    FORFEITED = "forfeited", _("Bonus forfeited on card refund")
    MIGRATION = "migration", _("Opening balances moved in")
    # Points moved to or from an allied merchant's members (patron/ledger/clearing.py).
    ALLIANCE = "alliance", _("Alliance clearing")


class Account(models.Model):
    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.PROTECT)
    asset = models.CharField(max_length=32, choices=Asset.choices)
    owner_type = models.CharField(max_length=10, choices=OwnerType.choices)
    member = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    system_code = models.CharField(max_length=20, blank=True, choices=SystemAccount.choices)
    # Cached for member accounts only (see module docstring); 0 for system accounts.
    balance = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "asset", "member"],
                condition=models.Q(owner_type="member"),
                name="uniq_member_account",
            ),
            models.UniqueConstraint(
                fields=["merchant", "asset", "system_code"],
                condition=models.Q(owner_type="system"),
                name="uniq_system_account",
            ),
            models.CheckConstraint(
                condition=models.Q(balance__gte=0) | ~models.Q(owner_type="member"),
                name="member_balance_not_negative",
            ),
        ]

    def __str__(self) -> str:
        owner = f"member {self.member_id}" if self.member_id else self.system_code
        return f"{self.asset} · {owner}"


class Transaction(models.Model):
    class Kind(models.TextChoices):
        TOPUP = "topup", _("Top-up")
        PAY = "pay", _("Stored-value payment")
        CARD_REFUND = "card_refund", _("Card refund")
        EARN = "earn", _("Points earned")
        SPEND = "spend", _("Points spent")
        EXPIRE = "expire", _("Points expired")
        ADJUST = "adjust", _("Manual adjustment")
        REVERSAL = "reversal", _("Reversal")
        # Opening balances brought from another system (API.md §7), posted once per member.
        MIGRATION = "migration", _("Opening balance (moved in)")
        # Points a member moved to an allied merchant, and points arriving from one.
        ALLIANCE_OUT = "alliance_out", _("Points moved to an alliance partner")
        ALLIANCE_IN = "alliance_in", _("Points moved in from an alliance partner")

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.PROTECT)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    idempotency_key = models.CharField(max_length=255)
    member = models.ForeignKey(
        "members.Member",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_transactions",
    )
    store = models.ForeignKey("tenancy.Store", null=True, blank=True, on_delete=models.PROTECT)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    api_key = models.ForeignKey("tenancy.ApiKey", null=True, blank=True, on_delete=models.SET_NULL)
    channel = models.CharField(max_length=20, default="console")
    ip = models.GenericIPAddressField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=20, blank=True)  # sale / refund / topup / import …
    source_ref = models.CharField(max_length=64, blank=True)
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals"
    )
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "idempotency_key"], name="uniq_ledger_idempotency_key"
            ),
        ]
        indexes = [models.Index(fields=["merchant", "member", "-occurred_at"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("ledger rows are append-only: post a reversal instead")

    def delete(self):
        raise PermissionError("ledger rows are append-only: post a reversal instead")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError("ledger rows are append-only: post a reversal instead")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("ledger rows are append-only: post a reversal instead")


class Entry(AppendOnlyModel):
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    asset = models.CharField(max_length=32, choices=Asset.choices)
    amount = models.BigIntegerField()  # signed: + into the account, - out of it
    member = models.ForeignKey("members.Member", null=True, blank=True, on_delete=models.PROTECT)
    occurred_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["account", "occurred_at"]),
            # A member's history, of every asset or of one, newest first, paged by
            # (occurred_at, id): the id in the index spares a sort of all the member's entries.
            models.Index(fields=["member", "-occurred_at", "-id"], name="entry_member_newest"),
            models.Index(
                fields=["member", "asset", "-occurred_at", "-id"], name="entry_member_asset_newest"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+d} {self.asset} → {self.account_id}"


class PointsLot(models.Model):
    """Points earned together, expiring together; spending consumes lots FIFO by expiry."""

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.PROTECT)
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="points_lots"
    )
    earned_by = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="lots")
    earned_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)  # null: never
    amount = models.BigIntegerField()
    remaining = models.BigIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(remaining__gte=0) & models.Q(remaining__lte=models.F("amount")),
                name="lot_remaining_in_range",
            ),
        ]
        indexes = [
            models.Index(fields=["member", "expires_at"]),
            models.Index(fields=["merchant", "expires_at"]),
        ]

    def __str__(self) -> str:
        return f"lot {self.pk}: {self.remaining}/{self.amount}"


class LotMovement(AppendOnlyModel):
    """Which lots a transaction consumed (-) or restored (+), so reversals restore them."""

    lot = models.ForeignKey(PointsLot, on_delete=models.PROTECT, related_name="movements")
    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, related_name="lot_movements"
    )
    amount = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.amount:+d} on lot {self.lot_id}"


class PointsHold(models.Model):
    """Pending points (return window, F-19): posted as a lot after `release_at`, or voided."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        POSTED = "posted", _("Posted")
        VOIDED = "voided", _("Voided")

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.PROTECT)
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="points_holds"
    )
    idempotency_key = models.CharField(max_length=255)
    points = models.BigIntegerField()
    earned_at = models.DateTimeField()
    release_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    store = models.ForeignKey("tenancy.Store", null=True, blank=True, on_delete=models.PROTECT)
    source = models.CharField(max_length=20, blank=True)
    source_ref = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=200, blank=True)
    posted_as = models.OneToOneField(Transaction, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "idempotency_key"], name="uniq_hold_idempotency_key"
            ),
            models.CheckConstraint(condition=models.Q(points__gt=0), name="hold_points_positive"),
        ]
        indexes = [models.Index(fields=["status", "release_at"])]

    def __str__(self) -> str:
        return f"hold {self.points} ({self.status})"


class Shortfall(AppendOnlyModel):
    """What a reversal could not take back because the member had already used it (F-23)."""

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.PROTECT)
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="shortfalls"
    )
    asset = models.CharField(max_length=32, choices=Asset.choices)
    amount = models.BigIntegerField()
    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, related_name="shortfalls"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"shortfall {self.amount} {self.asset}"


DEFAULT_POINTS_POLICY = {
    "earn": {"per_amount": 10000, "points": 1},
    "earn_exclude_categories": [],
    "redeem_cash": {"points": 100, "value": 100, "max_share_percent": 50},
    "expiry": {"policy": "end_of_next_year"},
    "pending_days": 0,
}


# The most a program may allow in one top-up (`stored_value.max_topup`; merchants set less, 50,000
# yuan unless they do), and the largest manual points adjustment (no program section sets it).
# The API document states both (patron.wallet.schemas).
TOPUP_CEILING = 10**11
MAX_ADJUST_POINTS = 1_000_000


class LedgerPolicy(models.Model):
    """The merchant's points and stored-value rules (program sections `points`, `topup_bonus`)."""

    class Split(models.TextChoices):
        PROPORTIONAL = "proportional", _("Principal and bonus in proportion")
        PRINCIPAL_FIRST = "principal_first", _("Principal first")
        BONUS_FIRST = "bonus_first", _("Bonus first")

    merchant = models.OneToOneField(
        "tenancy.Merchant", on_delete=models.CASCADE, related_name="ledger_policy"
    )
    points = models.JSONField(default=dict)
    topup_bonus = models.JSONField(default=list)
    payment_split = models.CharField(
        max_length=20, choices=Split.choices, default=Split.PROPORTIONAL
    )
    max_topup = models.BigIntegerField(default=5_000_000)  # 50,000 yuan in one top-up
    max_adjust_points = models.BigIntegerField(default=MAX_ADJUST_POINTS)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"ledger policy of {self.merchant_id}"

    def points_policy(self) -> dict:
        return {**DEFAULT_POINTS_POLICY, **(self.points or {})}
