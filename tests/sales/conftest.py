"""A hotel-and-restaurant program and a gold member with points and stored value."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from patron.ledger import services as ledger
from patron.members.services import register_member
from patron.program.services import apply_program
from patron.promotions.services import set_member_tier

PROGRAM = {
    "categories": ["rooms", "dishes", "drinks", "retail"],
    "tiers": [
        {"code": "normal", "name": "普通会员", "rank": 0},
        {"code": "silver", "name": "银卡会员", "rank": 1, "discount": {"rooms": 88}},
        {
            "code": "gold",
            "name": "金卡会员",
            "rank": 2,
            "discount": {"rooms": 80, "dishes": 90},
            "points_multiplier": 1.5,
        },
    ],
    "points": {
        "earn": {"per_amount": 100, "points": 1},  # 1 point per yuan paid
        "redeem_cash": {"points": 100, "value": 100, "max_share_percent": 50},
        "expiry": {"policy": "end_of_next_year"},
        "pending_days": 0,
    },
    "promotions": [
        {
            "code": "SPRING10",
            "name": "春季九折",
            "kind": "code",
            "benefit": {"type": "percent", "value": 10},
            "priority": 20,
        },
        {
            "code": "man300",
            "name": "满300减50",
            "kind": "automatic",
            "condition": {"min_amount": 30000},
            "benefit": {"type": "fixed", "value": 5000},
            "priority": 30,
        },
    ],
    "coupon_templates": [
        {
            "code": "room_night",
            "name": "免费房券",
            "benefit": {"type": "free_items", "skus": ["ROOM-STD"], "quantity": 1},
            "valid_days": 90,
        },
        {
            "code": "cash20",
            "name": "满100减20",
            "condition": {"min_amount": 10000},
            "benefit": {"type": "fixed", "value": 2000},
            "valid_days": 30,
        },
    ],
    "checkout": {"pin_required_above": 10000},
}

# 1 room at 320, 2 dishes at 50, 1 tea at 20 yuan: 440 yuan.
BASKET = [
    {"sku": "ROOM-STD", "category": "rooms", "quantity": 1, "unit_price": 32000},
    {"sku": "DISH-FISH", "category": "dishes", "quantity": 2, "unit_price": 5000, "brand": "西湖"},
    {"sku": "TEA-LJ", "category": "drinks", "quantity": 1, "unit_price": 2000, "size": "大"},
]


@pytest.fixture
def program(system, stores):
    apply_program(system, PROGRAM)
    return PROGRAM


@pytest.fixture
def gold(system, hq, program):
    member = register_member(system, {"mobile": "13800138000", "store": "S1"})
    set_member_tier(hq, member, "gold")
    ledger.top_up(system, member, 10000, key="fund-sv")
    ledger.adjust_points(system, member, 5000, reason="opening balance", key="fund-points")
    member.refresh_from_db()
    return member


@pytest.fixture
def walk_in_time():
    return timezone.now() - dt.timedelta(minutes=1)
