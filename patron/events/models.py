"""The outbox and the webhooks (DESIGN.md §4, API.md §9).

An `Event` row is written in the same transaction as the change it tells of, so it exists
exactly when the change does; the dispatcher hands pending events to the registered consumers
(journeys, webhooks) and marks them dispatched. Webhook deliveries are their own rows, sent
and retried by the worker.
"""

from __future__ import annotations

import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Event(models.Model):
    """One thing that happened, as integrators and journeys see it: `{id, type, created_at,
    data}` (API.md §9). `uid` is the public id consumers deduplicate on; `id` orders them."""

    id = models.BigAutoField(primary_key=True)
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    type = models.CharField(max_length=40)
    # The member the event is about (delivery keeps their events in order); by id only, as
    # the ledger does, so any floor above may emit.
    member_id = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["id"], condition=Q(dispatched_at__isnull=True), name="events_pending"
            ),
            models.Index(fields=["merchant", "type", "created_at"], name="events_by_type"),
            models.Index(fields=["member_id", "id"], name="events_by_member"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.uid}"


class Webhook(models.Model):
    """A merchant's subscription: which event types go to which URL, signed with `secret`."""

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)  # event types; [] means all
    secret = models.CharField(_("secret"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event owed to one webhook, retried with backoff until a 2xx or a day has passed."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["webhook", "event"], name="one_delivery_per_event")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="webhook_deliveries_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.webhook_id} {self.event_id}"


class DeliveryAttempt(models.Model):
    """One POST of a delivery: what the receiver answered and how long it took."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    attempt = models.PositiveSmallIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)  # None: no answer
    duration_ms = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.delivery_id} #{self.attempt}"


class DispatcherLock(models.Model):
    """One row per dispatcher; held FOR UPDATE while it runs, so two workers never hand the
    same events out at once (delivery in order per member)."""

    name = models.CharField(primary_key=True, max_length=40)

    def __str__(self) -> str:
        return self.name
