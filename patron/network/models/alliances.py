"""Alliances between merchants (F-42): the agreement, every step of its life, the exchanges of
points made under it, and each member's twin at the partner."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

__all__ = ["Alliance", "AllianceExchange", "AllianceStep", "MemberTwin"]


class Alliance(models.Model):
    class Status(models.TextChoices):
        INVITED = "invited", pgettext_lazy("alliance status", "Invited")
        ACTIVE = "active", pgettext_lazy("alliance status", "Active")
        PAUSED = "paused", pgettext_lazy("alliance status", "Paused")
        ENDED = "ended", pgettext_lazy("alliance status", "Ended")
        DECLINED = "declined", pgettext_lazy("alliance status", "Declined")

    LIVE = (Status.INVITED, Status.ACTIVE, Status.PAUSED)

    proposer = models.ForeignKey(
        "tenancy.Merchant", on_delete=models.PROTECT, related_name="alliances_proposed"
    )
    partner = models.ForeignKey(
        "tenancy.Merchant", on_delete=models.PROTECT, related_name="alliances_invited"
    )
    # "`rate_points` of the proposer's points = `rate_partner_points` of the partner's".
    rate_points = models.PositiveIntegerField(_("proposer's points"))
    rate_partner_points = models.PositiveIntegerField(_("partner's points"))
    # What the points issued are worth when the merchants clear: `value_amount` fen for
    # every `value_points` points.
    value_points = models.PositiveIntegerField(default=100)
    value_amount = models.PositiveIntegerField(default=100)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.INVITED)
    # "<lower merchant id>-<higher>" while the alliance is live, else empty: one live alliance
    # per pair of merchants, whichever proposed it.
    live_pair = models.CharField(max_length=41, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(proposer=models.F("partner")), name="alliance_two_merchants"
            ),
            models.CheckConstraint(
                condition=models.Q(rate_points__gt=0)
                & models.Q(rate_partner_points__gt=0)
                & models.Q(value_points__gt=0),
                name="alliance_rate_positive",
            ),
            models.UniqueConstraint(
                fields=["live_pair"], condition=~models.Q(live_pair=""), name="uniq_live_alliance"
            ),
        ]
        indexes = [
            models.Index(fields=["proposer", "status"]),
            models.Index(fields=["partner", "status"]),
        ]

    def __str__(self) -> str:
        return f"alliance {self.pk} ({self.status})"


class AllianceStep(models.Model):
    """Who did what to an alliance, when (invite, accept, decline, pause, resume, end)."""

    alliance = models.ForeignKey(Alliance, on_delete=models.PROTECT, related_name="steps")
    action = models.CharField(max_length=10)
    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    api_key = models.ForeignKey(
        "tenancy.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} of alliance {self.alliance_id}"


class MemberTwin(models.Model):
    """A member at one merchant and the same person (by mobile) at another, linked by their
    first exchange, which was also their consent to be known there."""

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    twin_merchant = models.ForeignKey(
        "tenancy.Merchant", on_delete=models.PROTECT, related_name="+"
    )
    twin = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    created_twin = models.BooleanField(default=False)  # registered there by the exchange
    consented_at = models.DateTimeField()
    alliance = models.ForeignKey(Alliance, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "twin_merchant"], name="uniq_member_twin"),
        ]
        indexes = [models.Index(fields=["twin", "merchant"])]

    def __str__(self) -> str:
        return f"member {self.member_id} = member {self.twin_id}"


class AllianceExchange(models.Model):
    """Points a member moved to the partner under an alliance: out of the member at the source
    merchant, in to their twin at the destination, worth `amount` fen when clearing."""

    class Direction(models.TextChoices):
        TO_PARTNER = "to_partner", _("To the partner")
        TO_PROPOSER = "to_proposer", _("To the proposer")

    alliance = models.ForeignKey(Alliance, on_delete=models.PROTECT, related_name="exchanges")
    direction = models.CharField(max_length=12, choices=Direction.choices)
    source = models.ForeignKey("tenancy.Merchant", on_delete=models.PROTECT, related_name="+")
    destination = models.ForeignKey("tenancy.Merchant", on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    member_at_destination = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="+"
    )
    points_out = models.BigIntegerField()
    points_in = models.BigIntegerField()
    amount = models.BigIntegerField()  # fen the source owes the destination
    out_transaction = models.OneToOneField(
        "ledger.Transaction", on_delete=models.PROTECT, related_name="+"
    )
    in_transaction = models.OneToOneField(
        "ledger.Transaction", on_delete=models.PROTECT, related_name="+"
    )
    idempotency_key = models.CharField(max_length=255)
    store = models.ForeignKey(
        "tenancy.Store", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "idempotency_key"], name="uniq_alliance_exchange_key"
            ),
            models.CheckConstraint(
                condition=models.Q(points_out__gt=0) & models.Q(points_in__gt=0),
                name="alliance_exchange_positive",
            ),
        ]
        indexes = [models.Index(fields=["alliance", "created_at"])]

    def __str__(self) -> str:
        return f"exchange {self.pk}: {self.points_out} -> {self.points_in}"
