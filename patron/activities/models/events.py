"""Tables of the member-only events part (issue 19 §6, F-27): an event with its capacity, and
each member's sign-up, confirmed or on the waitlist in the order they signed up."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

__all__ = ["EventSignup", "MemberOnlyEvent"]


class MemberOnlyEvent(models.Model):
    """An event members sign up for (a tasting, a member day). `tiers` lists the tier codes
    that may sign up; empty means every member."""

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE, related_name="+")
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    place = models.CharField(_("place"), max_length=200)
    store = models.ForeignKey(
        "tenancy.Store", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    capacity = models.PositiveIntegerField(_("capacity"))
    tiers = models.JSONField(_("tiers"), default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "code"], name="member_event_code_unique"),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="member_event_capacity"),
        ]

    def __str__(self) -> str:
        return self.name


class EventSignup(models.Model):
    """One member's place at an event. A member holds at most one live (not cancelled)
    sign-up per event; the waitlist is served first come, first served (`signed_up_at`)."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", pgettext_lazy("event signup", "Confirmed")
        WAITLISTED = "waitlisted", pgettext_lazy("event signup", "On the waitlist")
        CANCELLED = "cancelled", pgettext_lazy("event signup", "Cancelled")

    event = models.ForeignKey(MemberOnlyEvent, on_delete=models.CASCADE, related_name="signups")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices)
    signed_up_at = models.DateTimeField(default=timezone.now)
    promoted_at = models.DateTimeField(null=True, blank=True)  # off the waitlist
    cancelled_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)  # the day-before reminder went

    class Meta:
        ordering = ["signed_up_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "member"],
                condition=~Q(status="cancelled"),
                name="event_signup_once",
            ),
        ]
        indexes = [models.Index(fields=["event", "status", "signed_up_at"], name="signups_queue")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.member_id} {self.status}"
