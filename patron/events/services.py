"""Writing events: `emit` is called inside the transaction of the change it tells of."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone

from patron.events.models import Event
from patron.events.types import EVENT_TYPES


def emit(
    merchant_id: int,
    event_type: str,
    data: Mapping[str, Any],
    *,
    member_id: int | None = None,
    at: dt.datetime | None = None,
) -> Event:
    """Write one event to the outbox. Call it inside the transaction that makes the change:
    if that rolls back, the event was never written; once it commits, the worker is told."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    event = Event.objects.create(
        merchant_id=merchant_id,
        type=event_type,
        member_id=member_id,
        data=dict(data),
        created_at=at or timezone.now(),
    )
    _wake_worker_after_commit()
    return event


def emit_many(
    merchant_id: int,
    event_type: str,
    items: Iterable[tuple[int | None, Mapping[str, Any]]],
    *,
    at: dt.datetime | None = None,
    batch_size: int = 2000,
) -> int:
    """`emit` for many members at once (a nightly tier review, lifecycle moves, expiry
    reminders): `items` are (member_id, data) pairs, written in their order in bulk INSERTs
    inside the caller's transaction. Returns how many were written."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    when = at or timezone.now()
    events = [
        Event(
            merchant_id=merchant_id,
            type=event_type,
            member_id=member_id,
            data=dict(data),
            created_at=when,
        )
        for member_id, data in items
    ]
    if not events:
        return 0
    Event.objects.bulk_create(events, batch_size=batch_size)
    _wake_worker_after_commit()
    return len(events)


def _wake_worker_after_commit() -> None:
    """One wake-up per transaction however many events it wrote. Django drops the callbacks
    of a transaction that rolls back, so a callback still queued means this one is armed."""
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        entry[1] is _wake_worker for entry in connection.run_on_commit
    ):
        return
    transaction.on_commit(_wake_worker)


# A wake-up is a job queued for the worker (a write to the job queue: about 3 ms with the
# embedded SQLite queue, a fifth of a till sale). One scheduled WAKE_DELAY ahead sees every
# event committed before it runs, so a process queues at most one per WAKE_DELAY however
# many sales it commits; the minute sweep is the safety net.
WAKE_DELAY = 0.2  # seconds
_scheduled_until = 0.0  # time.monotonic() before which this process's last wake-up is due


def _wake_worker() -> None:
    global _scheduled_until
    from patron.events.tasks import dispatch_outbox  # the job module imports this one

    now = time.monotonic()
    if now < _scheduled_until:
        return  # committed before the queued dispatch runs: it will see this event
    _scheduled_until = now + WAKE_DELAY
    dispatch_outbox.schedule(delay=WAKE_DELAY)
