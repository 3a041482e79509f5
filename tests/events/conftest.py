"""The outbox's fixtures: a small program (tiers, points, a coupon, a card product), a member
on it, and helpers to read what the outbox holds."""

from __future__ import annotations

import pytest

from patron.events.dispatch import _consumers
from patron.events.models import Event
from patron.members.services import register_member
from patron.program.services import apply_program

PROGRAM = {
    "categories": ["drinks"],
    "tiers": [
        {"code": "normal", "name": "普通会员", "rank": 0},
        {"code": "silver", "name": "银卡会员", "rank": 1},
        {"code": "gold", "name": "金卡会员", "rank": 2},
    ],
    "points": {
        "earn": {"per_amount": 100, "points": 1},
        "redeem_cash": {"points": 100, "value": 100, "max_share_percent": 50},
        "expiry": {"policy": "end_of_next_year"},
        "pending_days": 0,
    },
    "coupon_templates": [
        {
            "code": "cash20",
            "name": "满100减20",
            "condition": {"min_amount": 10000},
            "benefit": {"type": "fixed", "value": 2000},
            "valid_days": 30,
        }
    ],
    "card_products": [{"code": "plain", "name": "普通卡", "replace_fee": 1000}],
}
TEA = {"sku": "TEA", "category": "drinks", "quantity": 1, "unit_price": 20000}


@pytest.fixture
def program(system, stores):
    apply_program(system, PROGRAM)
    return PROGRAM


@pytest.fixture
def member(system, program):
    return register_member(system, {"mobile": "13800138000", "name": "张三", "store": "S1"})


@pytest.fixture
def only_test_consumers():
    """The registered consumers put aside for the test (webhooks, journeys), then restored."""
    saved = list(_consumers)
    _consumers.clear()
    yield _consumers
    _consumers[:] = saved


def events_of(event_type: str, **filters) -> list[Event]:
    return list(Event.objects.filter(type=event_type, **filters).order_by("id"))


def one_event(event_type: str, **filters) -> Event:
    found = events_of(event_type, **filters)
    assert len(found) == 1, [(e.type, e.data) for e in found]
    return found[0]
