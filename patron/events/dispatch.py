"""Handing pending events to their consumers, in order, at least once.

Consumers register from their app's `ready()` (`add_consumer`). A consumer runs inside the
dispatcher's transaction and must only write rows (queue a message, a webhook delivery, a
journey step), never call the network: the rows it writes and the event's `dispatched_at`
commit together, so a worker killed mid-batch leaves both undone and the next run repeats
them. Consumers are idempotent by `event.uid` all the same (a receiver of webhooks may see an
event twice).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from patron.events.models import DispatcherLock, Event

log = logging.getLogger("patron.events")

LOCK_NAME = "outbox"
BATCH = 200
MAX_ATTEMPTS = 5  # then the event is set aside (dispatched, with its error) and the rest go on

Handler = Callable[[Event], None]


@dataclass(frozen=True)
class Consumer:
    name: str
    handler: Handler
    types: frozenset[str] | None  # None: every type


_consumers: list[Consumer] = []


def add_consumer(name: str, handler: Handler, types: Iterable[str] | None = None) -> None:
    """Register a consumer once (a second registration under the same name replaces it)."""
    _consumers[:] = [c for c in _consumers if c.name != name]
    _consumers.append(Consumer(name, handler, None if types is None else frozenset(types)))


def consumers() -> tuple[Consumer, ...]:
    return tuple(_consumers)


def dispatch_pending(batch: int = BATCH) -> int:
    """Dispatch until nothing is pending or an event fails; the number dispatched."""
    total = 0
    while True:
        done, complete = _dispatch_batch(batch)
        total += done
        if not complete or done < batch:
            return total


def _dispatch_batch(limit: int) -> tuple[int, bool]:
    DispatcherLock.objects.bulk_create([DispatcherLock(name=LOCK_NAME)], ignore_conflicts=True)
    with transaction.atomic():
        # Wait for a dispatcher at work rather than skip: it may have read its batch before
        # the events that woke this one were committed.
        list(DispatcherLock.objects.select_for_update().filter(name=LOCK_NAME))
        events = list(Event.objects.filter(dispatched_at__isnull=True).order_by("id")[:limit])
        done: list[int] = []
        complete = True
        for event in events:
            if _deliver(event):
                done.append(event.pk)
            else:
                complete = False
                break
        Event.objects.filter(pk__in=done).update(dispatched_at=timezone.now())
    return len(done), complete


def _deliver(event: Event) -> bool:
    """Run every consumer of the event; False to stop the batch here (kept for a retry)."""
    for consumer in _consumers:
        if consumer.types is not None and event.type not in consumer.types:
            continue
        try:
            with transaction.atomic():
                consumer.handler(event)
        except Exception as exc:  # one consumer's bug must not stop the outbox for good
            log.exception("consumer %s failed on event %s", consumer.name, event.uid)
            return _set_aside_after_retries(event, consumer, exc)
    return True


def _set_aside_after_retries(event: Event, consumer: Consumer, exc: Exception) -> bool:
    event.attempts += 1
    event.error = f"{consumer.name}: {type(exc).__name__}: {exc}"[:500]
    if event.attempts < MAX_ATTEMPTS:
        Event.objects.filter(pk=event.pk).update(attempts=event.attempts, error=event.error)
        return False
    Event.objects.filter(pk=event.pk).update(attempts=event.attempts, error=event.error)
    return True  # set aside: marked dispatched with the batch, its error kept
