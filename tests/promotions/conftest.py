"""Shared fixtures of the promotions tests: a program with tiers, promotions and coupons."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.utils import translation

from patron.members.models import Member
from patron.members.services import register_member
from patron.program.services import apply_program
from patron.tenancy.actor import Actor

PROGRAM: dict[str, Any] = {
    "categories": ["rooms", "dishes", "drinks"],
    "tiers": [
        {"code": "normal", "name": "普通会员", "rank": 0},
        {
            "code": "silver",
            "name": "银卡会员",
            "rank": 1,
            "discount": {"rooms": 88},
            "upgrade_when": {"spend_12m": 100000},
        },
        {
            "code": "gold",
            "name": "金卡会员",
            "rank": 2,
            "discount": {"rooms": 80, "dishes": 90},
            "points_multiplier": 1.5,
            "upgrade_when": {"spend_12m": 500000, "single_topup": 100000},
        },
    ],
    "promotions": [
        {
            "code": "tuesday",
            "name": "会员日",
            "kind": "automatic",
            "members_only": True,
            "condition": {"weekdays": [2]},
            "benefit": {"type": "percent", "value": 10},
            "stacking": "stackable",
            "priority": 10,
        },
        {
            "code": "SPRING10",
            "name": "春季满减",
            "kind": "code",
            "condition": {
                "min_amount": 20000,
                "starts_at": "2027-03-01T00:00:00",
                "ends_at": "2027-04-01T00:00:00+08:00",
            },
            "benefit": {"type": "fixed", "value": 1000, "categories": ["dishes"]},
        },
        {
            "code": "double",
            "name": "双倍积分",
            "kind": "automatic",
            "condition": {"tiers": ["gold", "silver"], "stores": ["S1"]},
            "benefit": {"type": "points_multiplier", "value": 2},
            "stacking": "exclusive",
            "priority": 50,
        },
    ],
    "coupon_templates": [
        {
            "code": "room_night",
            "name": "免费房券",
            "benefit": {"type": "free_items", "skus": ["ROOM-STD"], "quantity": 1},
            "valid_days": 90,
            "per_member_limit": 2,
        },
        {
            "code": "cny",
            "name": "新春券",
            "benefit": {"type": "percent", "value": 20, "max_discount": 5000},
            "condition": {"min_amount": 10000},
            "valid_from": "2099-02-01",
            "valid_until": "2099-02-28",
            "stock": 100,
        },
    ],
}


@pytest.fixture(autouse=True)
def _english():
    """Messages are compared in English (the catalogue translates them to zh-Hans)."""
    with translation.override("en"):
        yield


def program(**changes: Any) -> dict[str, Any]:
    """A deep copy of PROGRAM with some sections replaced (None drops a section)."""
    document = copy.deepcopy(PROGRAM)
    for section, value in changes.items():
        if value is None:
            document.pop(section, None)
        else:
            document[section] = value
    return document


@pytest.fixture
def applied(system: Actor, stores) -> Actor:
    """The merchant with PROGRAM applied; returns the system actor."""
    apply_program(system, program())
    return system


@pytest.fixture
def member(applied: Actor) -> Member:
    return register_member(applied, {"mobile": "13800138000", "store": "S1", "name": "张三"})


@pytest.fixture
def s2_member(applied: Actor) -> Member:
    return register_member(applied, {"mobile": "13800138002", "store": "S2", "name": "李四"})
