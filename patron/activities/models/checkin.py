"""Tables of the check-in part: the rules (`checkin` and `referral` program sections), one row
per check-in day, make-up cards, points for actions and referral rewards.

Exactness comes from unique rows, not counters read then written: a member checks in once a
day because (member, day) is unique; an action pays once because (member, action, ref) is;
a referee rewards their referrer once because the referee is unique in ReferralReward.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = [
    "EngagePolicy",
    "CheckIn",
    "MakeupCards",
    "MakeupCardMove",
    "ActionReward",
    "ReferralReward",
    "MemberDevice",
]


class EngagePolicy(models.Model):
    """The merchant's `checkin` and `referral` sections as cleaned (empty: not offered)."""

    merchant = models.OneToOneField(
        "tenancy.Merchant", on_delete=models.CASCADE, related_name="engage_policy"
    )
    checkin = models.JSONField(default=dict, blank=True)
    referral = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"engage policy {self.merchant_id}"


class CheckIn(models.Model):
    """A member's check-in for one day of the merchant's calendar (a make-up fills a past day)."""

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="checkins")
    day = models.DateField(_("day"))
    streak = models.PositiveIntegerField(_("streak"))  # consecutive days ending on `day`
    points = models.PositiveIntegerField(_("points"), default=0)
    bonus = models.PositiveIntegerField(_("streak bonus"), default=0)
    makeup = models.BooleanField(_("make-up"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["member", "day"], name="uniq_checkin_day"),
        ]
        indexes = [models.Index(fields=["merchant", "day"])]

    def __str__(self) -> str:
        return f"check-in {self.member_id} {self.day}"


class MakeupCards(models.Model):
    """How many make-up cards (补签卡) a member holds; moved only by a guarded update."""

    member = models.OneToOneField(
        "members.Member", on_delete=models.CASCADE, related_name="makeup_cards"
    )
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(count__gte=0), name="makeup_cards_gte_0")
        ]

    def __str__(self) -> str:
        return f"make-up cards {self.member_id}: {self.count}"


class MakeupCardMove(models.Model):
    """One grant or use of make-up cards, under a key so a retry moves nothing twice."""

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    change = models.IntegerField()
    reason = models.CharField(max_length=200)
    key = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "key"], name="uniq_makeup_move_key"),
        ]

    def __str__(self) -> str:
        return f"make-up cards {self.member_id} {self.change:+d}"


class ActionReward(models.Model):
    """Points given for something the member did: the profile completed (ref ""), a review
    (ref: the review's id). Unique so that an action pays once."""

    class Action(models.TextChoices):
        PROFILE = "profile_completed", _("Profile completed")
        REVIEW = "review", _("Review")

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=20, choices=Action.choices)
    ref = models.CharField(max_length=64, blank=True, default="")
    day = models.DateField()  # merchant's zone: the daily cap of reviews counts these
    points = models.PositiveIntegerField()
    transaction = models.ForeignKey(
        "ledger.Transaction", on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "action", "ref"], name="uniq_action_reward"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.member_id} {self.ref}"


class ReferralReward(models.Model):
    """The reward of one referral: the referrer's points when the referee's first sale
    committed, the referee's coupon; revoked when that sale is refunded."""

    class Status(models.TextChoices):
        REWARDED = "rewarded", _("Rewarded")
        CAPPED = "capped", _("Over the monthly cap")
        REVOKED = "revoked", _("Revoked by a refund")

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    referrer = models.ForeignKey(
        "members.Member", on_delete=models.CASCADE, related_name="referral_rewards"
    )
    referee = models.OneToOneField(
        "members.Member", on_delete=models.CASCADE, related_name="referral_reward"
    )
    sale = models.ForeignKey("sales.Sale", on_delete=models.PROTECT, related_name="+")
    month = models.CharField(max_length=7)  # YYYY-MM in the merchant's zone: the cap's month
    status = models.CharField(max_length=10, choices=Status.choices)
    points = models.PositiveIntegerField(default=0)
    transaction = models.ForeignKey(
        "ledger.Transaction", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    coupon = models.ForeignKey(
        "promotions.Coupon", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["merchant", "month", "status"])]

    def __str__(self) -> str:
        return f"referral {self.referrer_id} -> {self.referee_id}"


class MemberDevice(models.Model):
    """A device id a member joined from (optional `device_id` at registration): a referral
    from the same device as the referrer is a self-referral."""

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    device_id = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "device_id"], name="uniq_member_device"),
        ]
        indexes = [models.Index(fields=["merchant", "device_id"])]

    def __str__(self) -> str:
        return f"device {self.device_id}"
