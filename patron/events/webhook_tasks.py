"""Sending webhook deliveries: claim what is due, POST it signed, log the attempt, and retry
with exponential backoff (1, 2, 4 ... minutes, at most an hour apart, with jitter) until a 2xx
or a day after the first attempt.

Claiming and recording are two short transactions; the POST happens between them, with no
transaction open. A claimed delivery is leased (its `next_attempt_at` moved past the longest a
POST can take), so other workers skip it, and a worker killed mid-POST only delays it.
Deliveries of one webhook about the same member go in event order: one waits while an earlier
one is still pending (retrying included).
"""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from patron.events import webhooks
from patron.events.models import DeliveryAttempt, WebhookDelivery

BATCH = 50
FIRST_DELAY = dt.timedelta(minutes=1)
MAX_DELAY = dt.timedelta(hours=1)
JITTER = 0.2  # up to 20 % more, so receivers that came back are not hit all at once
GIVE_UP_AFTER = dt.timedelta(hours=24)
# Longer than a POST can take (connect 3 s + read 10 s): a claimed delivery is left alone
# this long, then taken up again if its worker died.
LEASE = dt.timedelta(minutes=2)

Pending = WebhookDelivery.Status.PENDING


def backoff(attempts: int, rng: random.Random | None = None) -> dt.timedelta:
    """The wait after the given number of failed attempts: 1 min doubling, capped at 1 h,
    plus up to 20 % jitter."""
    base = min(FIRST_DELAY * (2 ** max(0, attempts - 1)), MAX_DELAY)
    return base * (1 + JITTER * (rng or random).random())


def due(now: dt.datetime):
    """Pending deliveries whose time has come and that no earlier pending delivery of the same
    webhook and member holds back."""
    earlier = WebhookDelivery.objects.filter(
        webhook=OuterRef("webhook"),
        status=Pending,
        event__member_id=OuterRef("event__member_id"),
        event_id__lt=OuterRef("event_id"),
    )
    return (
        WebhookDelivery.objects.filter(status=Pending, next_attempt_at__lte=now)
        .filter(Q(event__member_id__isnull=True) | ~Exists(earlier))
        .order_by("next_attempt_at", "event_id")
    )


def claim(now: dt.datetime, limit: int = BATCH) -> list[WebhookDelivery]:
    """Take up to `limit` due deliveries for this worker: rows other workers hold are skipped."""
    with transaction.atomic():
        rows = list(
            due(now)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("webhook", "event", "event__merchant")[:limit]
        )
        # Each row is taken only if it is as read: where row locks do nothing (SQLite), two
        # workers that read the same row cannot both take it.
        won = [
            row
            for row in rows
            if WebhookDelivery.objects.filter(
                pk=row.pk,
                status=Pending,
                attempts=row.attempts,
                next_attempt_at=row.next_attempt_at,
            ).update(next_attempt_at=now + LEASE, attempts=F("attempts") + 1)
        ]
    for row in won:
        row.attempts += 1
    return won


def record(delivery: WebhookDelivery, answer: webhooks.Answer, now: dt.datetime) -> str:
    """Log the attempt and decide: delivered, retry later or failed. The new status."""
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            delivery=delivery,
            attempt=delivery.attempts,
            status_code=answer.status_code,
            duration_ms=answer.duration_ms,
            error=answer.error,
            at=now,
        )
        if answer.ok:
            status, next_at = WebhookDelivery.Status.DELIVERED, now
        else:
            first = (
                DeliveryAttempt.objects.filter(delivery=delivery)
                .order_by("at", "pk")
                .values_list("at", flat=True)
                .first()
            )
            deadline = (first or now) + GIVE_UP_AFTER
            if now >= deadline:
                status, next_at = WebhookDelivery.Status.FAILED, now
            else:
                # The last try falls on the deadline rather than being skipped.
                status, next_at = Pending, min(now + backoff(delivery.attempts), deadline)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=status, next_attempt_at=next_at
        )
    delivery.status, delivery.next_attempt_at = status, next_at
    return status


def send_one(delivery: WebhookDelivery, now: dt.datetime) -> str:
    body = webhooks.event_body(delivery.event)
    answer = webhooks.post(delivery.webhook.url, delivery.webhook.secret, body, now=now)
    return record(delivery, answer, now)


def send_due(now: dt.datetime | None = None, limit: int = BATCH) -> int:
    """POST every delivery that is due (in batches); the number of POSTs made. `now` is the
    clock the schedule is read and written with (tests pass a fake one)."""
    sent = 0
    while True:
        at = now or timezone.now()
        batch = claim(at, limit)
        for delivery in batch:
            send_one(delivery, now or timezone.now())
        sent += len(batch)
        if not batch:  # not `< limit`: a delivery may just have freed the next one in line
            return sent


@db_task()
def send_due_webhooks() -> int:
    return send_due()


@db_periodic_task(crontab(minute="*"))
def send_due_webhooks_sweep() -> int:
    return send_due()
