"""Card products, cards, card fees, paid memberships, tier standing and recruitment (F-02,
F-05 … F-12; API.md §7).

A member always has a card number (`Member.card_no`, given at registration). A `Card` row is
written for it the first time something happens to that card (issued with a product, bound to
a physical card, reported lost, replaced …): until then `selectors.card_for_number` shows the
member's number as an active card without a product. The ledger keeps the balances of the
*member*, never of a card, so replacing a card moves nothing in the ledger.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CardProduct(models.Model):
    """A kind of card a merchant sells or gives (program file `card_products`).

    `paid_days` set makes it a paid membership (年卡SVIP): buying it grants `tier_code` for that
    many days (`Membership`); otherwise it is a card issued to a member (`Card`).
    """

    merchant = models.ForeignKey(
        "tenancy.Merchant", on_delete=models.CASCADE, related_name="card_products"
    )
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    fee = models.BigIntegerField(_("fee"), default=0)  # fen
    tier_code = models.CharField(_("starting tier"), max_length=32, blank=True)
    validity_days = models.PositiveIntegerField(_("valid for (days)"), null=True, blank=True)
    physical = models.BooleanField(_("physical card"), default=False)
    face_colour = models.CharField(_("face colour"), max_length=7, blank=True)
    face_image = models.CharField(_("face image"), max_length=255, blank=True)
    # The fee is waived when the member tops up at least this much when the card is issued.
    fee_waived_by_topup = models.BigIntegerField(
        _("fee waived by a top-up of"), null=True, blank=True
    )
    # A first deposit of at least `first_deposit_min` puts the member on `first_deposit_tier`.
    first_deposit_min = models.BigIntegerField(_("first deposit of"), null=True, blank=True)
    first_deposit_tier = models.CharField(_("tier for a first deposit"), max_length=32, blank=True)
    replace_fee = models.BigIntegerField(_("replacement fee"), default=0)
    replace_wait_days = models.PositiveSmallIntegerField(
        _("waiting days before replacing"), default=0
    )
    # {fee: bool (the card fee is returned), bonus: "forfeit" | "keep", pro_rata: bool (paid
    # memberships: the unused days are returned)}
    refund = models.JSONField(_("refund rule"), default=dict, blank=True)
    paid_days = models.PositiveIntegerField(_("paid membership days"), null=True, blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("card product")
        ordering = ["position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "code"], name="uniq_card_product_code"),
            models.CheckConstraint(condition=models.Q(fee__gte=0), name="card_product_fee_gte_0"),
            models.CheckConstraint(
                condition=models.Q(replace_fee__gte=0), name="card_product_replace_fee_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_paid_membership(self) -> bool:
        return self.paid_days is not None


class CardStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("card status", "Active")
    LOST = "lost", pgettext_lazy("card status", "Reported lost")
    REPLACED = "replaced", pgettext_lazy("card status", "Replaced")
    CLOSED = "closed", pgettext_lazy("card status", "Refunded and closed")


class Card(models.Model):
    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.PROTECT)
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="cards")
    product = models.ForeignKey(
        CardProduct, null=True, blank=True, on_delete=models.PROTECT, related_name="cards"
    )
    card_no = models.CharField(_("card number"), max_length=20)
    # What a reader gets from the physical card: magstripe track, barcode or NFC UID.
    physical_id = models.CharField(_("physical card id"), max_length=64, blank=True, default="")
    status = models.CharField(
        _("status"), max_length=10, choices=CardStatus.choices, default=CardStatus.ACTIVE
    )
    store = models.ForeignKey(
        "tenancy.Store", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("issued at"))
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    lost_at = models.DateTimeField(_("reported lost at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    replaced_by = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaces"
    )
    fee_paid = models.BigIntegerField(_("fee paid"), default=0)
    fee_waived = models.BooleanField(_("fee waived"), default=False)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("card")
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "card_no"], name="uniq_card_no"),
            models.UniqueConstraint(
                fields=["merchant", "physical_id"],
                condition=~models.Q(physical_id=""),
                name="uniq_card_physical_id",
            ),
        ]
        indexes = [models.Index(fields=["merchant", "member", "status"])]

    def __str__(self) -> str:
        return self.card_no


class CardEvent(models.Model):
    """One step in a card's life, for the card's history (the audit log has them too)."""

    class Kind(models.TextChoices):
        ISSUED = "issued", _("Issued")
        BOUND = "bound", _("Physical card bound")
        LOST = "lost", _("Reported lost")
        REPLACED = "replaced", _("Replaced")
        EXCHANGED = "exchanged", _("Exchanged (damaged)")
        REFUNDED = "refunded", _("Refunded and closed")
        PIN_SET = "pin_set", _("PIN set")
        PIN_CHANGED = "pin_changed", _("PIN changed")
        PIN_RESET = "pin_reset", _("PIN reset by staff")

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.PROTECT)
    card = models.ForeignKey(
        Card, null=True, blank=True, on_delete=models.PROTECT, related_name="events"
    )
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="card_events"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    detail = models.JSONField(default=dict, blank=True)
    store = models.ForeignKey(
        "tenancy.Store", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=20, default="console")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["merchant", "member", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.card_id}"


class Membership(models.Model):
    """A paid membership period (F-12): the product's tier from `valid_from` to `valid_until`."""

    class Status(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("membership status", "Active")
        EXPIRED = "expired", pgettext_lazy("membership status", "Expired")
        REFUNDED = "refunded", pgettext_lazy("membership status", "Refunded")

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.PROTECT)
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="memberships"
    )
    product = models.ForeignKey(CardProduct, on_delete=models.PROTECT, related_name="memberships")
    tier_code = models.CharField(max_length=32)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    fee_paid = models.BigIntegerField(_("fee paid"), default=0)
    refunded = models.BigIntegerField(_("refunded"), default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    # The tier the member held when this period began (a later expiry returns them to what
    # they earn then, never below what the rules give).
    tier_before = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-valid_until", "-id"]
        indexes = [
            models.Index(fields=["merchant", "member", "status"]),
            models.Index(fields=["merchant", "status", "valid_until"]),
        ]

    def __str__(self) -> str:
        return f"{self.product_id} {self.valid_from:%Y-%m-%d}–{self.valid_until:%Y-%m-%d}"


class CardPayment(models.Model):
    """Money taken or given back at the counter for a card or a membership, with its tender
    and receipt number: card fees, replacement fees, paid memberships and their refunds.

    Not a ledger movement (the ledger holds what members own; a fee is the merchant's income),
    but counted by the shift close like a sale's tenders. Refunds are negative amounts.
    """

    class Kind(models.TextChoices):
        CARD_FEE = "card_fee", _("Card fee")
        REPLACE_FEE = "replace_fee", _("Replacement fee")
        MEMBERSHIP = "membership", _("Paid membership")
        FEE_REFUND = "fee_refund", _("Card fee returned")
        MEMBERSHIP_REFUND = "membership_refund", _("Paid membership refunded")

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.PROTECT)
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    card = models.ForeignKey(
        Card, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    membership = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    amount = models.BigIntegerField()  # fen; negative when money went back to the member
    method = models.CharField(max_length=12)  # patron.ledger.payments.METHODS
    receipt_no = models.CharField(_("receipt number"), max_length=32)
    idempotency_key = models.CharField(max_length=255)
    store = models.ForeignKey(
        "tenancy.Store", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "idempotency_key"], name="uniq_card_payment_key"
            ),
            models.UniqueConstraint(fields=["merchant", "receipt_no"], name="uniq_card_receipt"),
            models.CheckConstraint(condition=~models.Q(amount=0), name="card_payment_not_zero"),
        ]
        indexes = [models.Index(fields=["merchant", "store", "user", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


class TierStanding(models.Model):
    """Where a member stands against their tier's `keep_when` (F-11): since when they fall
    short of it (a downgrade comes `grace_days` later), and when the review last looked."""

    member = models.OneToOneField(
        "members.Member", on_delete=models.CASCADE, primary_key=True, related_name="tier_standing"
    )
    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    below_since = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"standing of member {self.member_id}"


class RecruitmentPolicy(models.Model):
    """Who may join (program file `recruitment`, F-02); no row or all empty: anyone."""

    merchant = models.OneToOneField(
        "tenancy.Merchant", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    min_purchase = models.BigIntegerField(null=True, blank=True)  # one sale of at least (fen)
    min_spend_total = models.BigIntegerField(null=True, blank=True)  # sales adding up to (fen)
    min_age = models.PositiveSmallIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"recruitment of {self.merchant_id}"
