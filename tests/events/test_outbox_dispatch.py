"""The dispatcher: in order per member, retried then set aside when a consumer fails, and
consumers that deduplicate by the event's uid (patron/events/dispatch.py, docs/events.md)."""

from __future__ import annotations

import pytest

from patron.events import dispatch
from patron.events.dispatch import add_consumer, dispatch_pending
from patron.events.models import Event
from patron.events.services import emit, emit_many

pytestmark = [pytest.mark.postgres]


def test_delivered_in_order_per_member(merchant, only_test_consumers):
    seen: list[tuple[int, int]] = []
    add_consumer("test", lambda event: seen.append((event.member_id, event.data["n"])))
    for n in range(6):
        emit(merchant.pk, "sale.completed", {"n": n}, member_id=1 + n % 2)
    emit_many(merchant.pk, "tier.changed", [(1, {"n": 6}), (2, {"n": 7})])
    assert dispatch_pending(batch=3) == 8  # several batches
    assert [n for member, n in seen if member == 1] == [0, 2, 4, 6]
    assert [n for member, n in seen if member == 2] == [1, 3, 5, 7]
    assert not Event.objects.filter(dispatched_at__isnull=True).exists()
    assert dispatch_pending() == 0  # nothing twice


def test_consumers_see_only_their_types(merchant, only_test_consumers):
    seen: list[str] = []
    add_consumer("sales-only", lambda event: seen.append(event.type), ["sale.completed"])
    emit(merchant.pk, "topup.completed", {}, member_id=1)
    emit(merchant.pk, "sale.completed", {}, member_id=1)
    assert dispatch_pending() == 2
    assert seen == ["sale.completed"]


def test_a_failing_consumer_is_retried_then_the_event_set_aside(merchant, only_test_consumers):
    calls: list[int] = []

    def flaky(event: Event) -> None:
        calls.append(event.pk)
        if event.data.get("bad"):
            raise RuntimeError("receiver table missing")

    add_consumer("flaky", flaky)
    bad = emit(merchant.pk, "sale.completed", {"bad": True}, member_id=1)
    after = emit(merchant.pk, "sale.completed", {}, member_id=1)
    # Each run stops at the failing event: the member's later event waits behind it.
    for attempt in range(1, dispatch.MAX_ATTEMPTS):
        assert dispatch_pending() == 0
        bad.refresh_from_db()
        assert (bad.attempts, bad.dispatched_at) == (attempt, None)
        assert after.pk not in calls
    # The last attempt sets it aside (dispatched, its error kept) and the rest go on.
    assert dispatch_pending() == 2
    bad.refresh_from_db()
    assert bad.attempts == dispatch.MAX_ATTEMPTS and bad.dispatched_at is not None
    assert bad.error == "flaky: RuntimeError: receiver table missing"
    assert calls.count(bad.pk) == dispatch.MAX_ATTEMPTS and calls[-1] == after.pk


def test_a_failed_consumer_writes_nothing(merchant, only_test_consumers):
    """A consumer runs in a savepoint: what it wrote before failing is undone."""

    def half_done(event: Event) -> None:
        emit(event.merchant_id, "coupon.issued", {"from": event.pk}, member_id=event.member_id)
        raise RuntimeError("after writing")

    add_consumer("half", half_done, ["sale.completed"])
    emit(merchant.pk, "sale.completed", {}, member_id=1)
    dispatch_pending()
    assert not Event.objects.filter(type="coupon.issued").exists()


def test_consumers_are_idempotent_by_uid(merchant, only_test_consumers):
    """Delivery is at least once: a consumer that keys its rows on the uid counts each event
    once even when handed it again (a worker killed after the consumer, before the commit)."""
    handled: dict[str, int] = {}

    def count_once(event: Event) -> None:
        handled.setdefault(str(event.uid), event.data["n"])

    add_consumer("once", count_once)
    for n in range(3):
        emit(merchant.pk, "sale.completed", {"n": n}, member_id=1)
    dispatch_pending()
    Event.objects.update(dispatched_at=None)  # as if the commit had been lost
    dispatch_pending()
    assert sorted(handled.values()) == [0, 1, 2]
