"""What Patron knows about its members beyond their purchases (DESIGN.md §5, API.md §8).

Everything here is derived (rebuilt by `patron insight refresh`) except segments, member
events and their follow-up tasks, which people write.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Lifecycle(models.TextChoices):
    """The seed's 活跃度 stages, from the most to the least engaged (F-30)."""

    EXCITED = "excited", pgettext_lazy("lifecycle", "Excited")
    ACTIVE = "active", pgettext_lazy("lifecycle", "Active")
    INERT = "inert", pgettext_lazy("lifecycle", "Inert")
    DORMANT = "dormant", pgettext_lazy("lifecycle", "Dormant")


class MemberInsight(models.Model):
    """One row per member who has been scored: 12-month windows, the member's own purchase
    cycle, lifecycle stage, RFM scores and predicted value. Segments filter on these columns
    (indexed), never on aggregates over sales."""

    member = models.OneToOneField(
        "members.Member", on_delete=models.CASCADE, primary_key=True, related_name="insight"
    )
    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    spend_12m = models.BigIntegerField(default=0)  # fen, net of refunds, last 365 days
    visits_12m = models.PositiveIntegerField(default=0)
    cycle_days = models.FloatField(null=True, blank=True)  # mean days between visits
    # What lifecycle and RFM read (docs/lifecycle-rfm.md): the last purchase (a sale not
    # refunded in full) and on how many days of the merchant's zone the member bought.
    last_purchase_at = models.DateTimeField(null=True, blank=True)
    purchase_days = models.PositiveIntegerField(default=0)
    lifecycle = models.CharField(max_length=10, choices=Lifecycle.choices, blank=True)
    lifecycle_since = models.DateTimeField(null=True, blank=True)
    r = models.PositiveSmallIntegerField(null=True, blank=True)
    f = models.PositiveSmallIntegerField(null=True, blank=True)
    m = models.PositiveSmallIntegerField(null=True, blank=True)
    rfm = models.CharField(max_length=3, blank=True)  # the cell, e.g. "555"
    p_alive = models.FloatField(null=True, blank=True)
    expected_visits_90d = models.FloatField(null=True, blank=True)
    expected_value_90d = models.BigIntegerField(null=True, blank=True)  # fen
    computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["merchant", "lifecycle"]),
            models.Index(fields=["merchant", "rfm"]),
            models.Index(fields=["merchant", "r"]),
            models.Index(fields=["merchant", "f"]),
            models.Index(fields=["merchant", "m"]),
            models.Index(fields=["merchant", "spend_12m"]),
            models.Index(fields=["merchant", "visits_12m"]),
            models.Index(fields=["merchant", "p_alive"]),
        ]

    def __str__(self) -> str:
        return f"insight of member {self.member_id}"


class Facet(models.TextChoices):
    CATEGORY = "category", _("category")
    SKU = "sku", _("SKU")
    SIZE = "size", _("size")
    COLOUR = "colour", _("colour")


class MemberFacet(models.Model):
    """What a member bought, per category, SKU, size and colour (F-33): how often, how much,
    when first and last, and from that the member's own cycle for it and when they are due
    to buy it again."""

    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="facets")
    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    kind = models.CharField(max_length=8, choices=Facet.choices)
    value = models.CharField(max_length=64)
    visits = models.PositiveIntegerField(default=0)  # sales that held it
    quantity = models.BigIntegerField(default=0)
    spend = models.BigIntegerField(default=0)  # fen, net of refunds
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    days = models.PositiveIntegerField(default=1)  # distinct days (merchant zone) it was bought
    cycle_days = models.FloatField(null=True, blank=True)  # null below two days
    due_at = models.DateTimeField(null=True, blank=True)  # last_at + cycle_days

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "kind", "value"], name="uniq_member_facet")
        ]
        indexes = [
            models.Index(fields=["merchant", "kind", "value"]),
            models.Index(fields=["merchant", "kind", "due_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.value} of member {self.member_id}"


class InsightPolicy(models.Model):
    """The merchant's lifecycle thresholds (program file `insight.lifecycle`, F-30); no row:
    the defaults of patron.insight.program."""

    merchant = models.OneToOneField(
        "tenancy.Merchant", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    default_cycle_days = models.FloatField()
    min_cycle_days = models.FloatField()
    min_visits = models.PositiveSmallIntegerField()
    excited = models.FloatField()
    active = models.FloatField()
    inert = models.FloatField()
    dormant_after_days = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"insight policy of {self.merchant_id}"


class LifecycleChange(models.Model):
    """A member moving from one stage to another: the stored `lifecycle.changed` event that
    campaigns trigger on (F-30)."""

    member = models.ForeignKey(
        "members.Member", on_delete=models.CASCADE, related_name="lifecycle_changes"
    )
    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    from_stage = models.CharField(max_length=10, choices=Lifecycle.choices, blank=True)
    to_stage = models.CharField(max_length=10, choices=Lifecycle.choices)
    occurred_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["merchant", "occurred_at"]),
            models.Index(fields=["member", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"member {self.member_id}: {self.from_stage or '-'} -> {self.to_stage}"


class Segment(models.Model):
    """A saved filter (API.md §8) that campaigns and exports name (F-29)."""

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    name = models.CharField(pgettext_lazy("segment", "name"), max_length=60)
    filter = models.JSONField(_("filter"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_count = models.PositiveIntegerField(null=True, blank=True)
    counted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "name"], name="uniq_segment_name")
        ]

    def __str__(self) -> str:
        return self.name


class ValueFit(models.Model):
    """A BG/NBD and Gamma-Gamma fit of one merchant's repeat purchases (F-34); the newest is
    the one members are scored with."""

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    fitted_at = models.DateTimeField()
    as_of = models.DateField()
    unit = models.CharField(max_length=4, default="day")  # day / week
    customers = models.PositiveIntegerField()
    bgnbd = models.JSONField()  # {r, alpha, a, b, ll}
    gamma_gamma = models.JSONField(null=True, blank=True)  # {p, q, v}; None: too few repeaters

    class Meta:
        indexes = [models.Index(fields=["merchant", "fitted_at"])]

    def __str__(self) -> str:
        return f"value fit of merchant {self.merchant_id} as of {self.as_of}"


class MemberEvent(models.Model):
    """Something a member did that says how they feel (F-32): a cancellation, a return, a
    complaint, a review, a suggestion, a referral."""

    class Kind(models.TextChoices):
        CANCELLATION = "cancellation", _("Cancellation")
        RETURN = "return", _("Return")
        COMPLAINT = "complaint", _("Complaint")
        REVIEW = "review", _("Review")
        SUGGESTION = "suggestion", _("Suggestion")
        REFERRAL = "referral", _("Referral")

    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="events")
    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    store = models.ForeignKey(
        "tenancy.Store", null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("store")
    )
    sale = models.ForeignKey("sales.Sale", null=True, blank=True, on_delete=models.SET_NULL)
    rating = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)  # 1-5
    body = models.TextField(_("details"), max_length=2000, blank=True)
    occurred_at = models.DateTimeField(_("time"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # What recorded it by itself ("refund:12", "referral:34"), so a replayed hook records
    # nothing twice; blank for events people record.
    source = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [
            models.Index(fields=["merchant", "kind", "occurred_at"]),
            models.Index(fields=["member", "occurred_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "source"],
                condition=~models.Q(source=""),
                name="uniq_member_event_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} of member {self.member_id}"


class FollowUpTask(models.Model):
    """The follow-up a complaint opens: who, by when, and what came of it."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")

    event = models.OneToOneField(MemberEvent, on_delete=models.CASCADE, related_name="task")
    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    store = models.ForeignKey("tenancy.Store", null=True, blank=True, on_delete=models.PROTECT)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_up_tasks",
        verbose_name=_("assignee"),
    )
    due_on = models.DateField(_("due on"))
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.OPEN)
    outcome = models.TextField(_("outcome"), max_length=2000, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["merchant", "status", "due_on"])]

    def __str__(self) -> str:
        return f"follow-up of event {self.event_id}"


class ExternalMember(models.Model):
    """A member's number in another system (`patron import sales`, column `external_id`), so
    that history brought from it finds the same member every time."""

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    external_id = models.CharField(max_length=64)
    member = models.ForeignKey(
        "members.Member", on_delete=models.CASCADE, related_name="external_ids"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "external_id"], name="uniq_external_member")
        ]

    def __str__(self) -> str:
        return f"{self.external_id} -> member {self.member_id}"
