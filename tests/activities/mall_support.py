"""Fixtures of the points-mall tests: the API.md §11 rewards applied, a member with points."""

from __future__ import annotations

import pytest

from patron.activities.models import Reward
from patron.ledger.services import earn_points, quick_balances
from patron.members.services import register_member
from patron.program.services import apply_program

ROOM_NIGHT = {
    "code": "room_night",
    "name": "免费房券",
    "benefit": {"type": "free_items", "skus": ["ROOM-STD"], "quantity": 1},
    "valid_days": 90,
}
FREE_NIGHT = {
    "code": "free_night",
    "name": "免费房一晚",
    "points": 5000,
    "kind": "coupon",
    "coupon": "room_night",
    "stock": 20,
    "per_member": 2,
}
MUG = {"code": "mug", "name": "马克杯", "points": 800, "cash": 990, "kind": "goods", "stock": 50}
PROGRAM = {"coupon_templates": [ROOM_NIGHT], "rewards": [FREE_NIGHT, MUG]}


@pytest.fixture
def rewards(hq):
    apply_program(hq, PROGRAM)
    return {r.code: r for r in Reward.objects.filter(merchant=hq.merchant)}


def new_member(system, mobile: str, points: int = 0):
    member = register_member(system, {"mobile": mobile, "name": "王小明", "store": "S1"})
    if points:
        earn_points(system, member, points, key=f"seed-{mobile}")
    return member


@pytest.fixture
def member(system, stores):
    return new_member(system, "13800138000", 10000)


def points_of(member) -> int:
    return quick_balances(member)["points"]


def left(reward) -> int | None:
    reward.refresh_from_db()
    return reward.left
