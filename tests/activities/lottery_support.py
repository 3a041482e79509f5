"""A merchant with the wheel of API.md §11 and a member holding points, for the lottery tests."""

from __future__ import annotations

import copy

from patron.ledger import services as ledger
from patron.members.services import register_member
from patron.program.services import apply_program

COUPONS = [
    {"code": "c20", "name": "20元券", "benefit": {"type": "fixed", "value": 2000}, "valid_days": 30}
]
WHEEL = {
    "code": "wheel",
    "name": "幸运转盘",
    "cost_points": 100,
    "daily_limit": 3,
    "budget": 50000,
    "prizes": [
        {"code": "p50", "kind": "points", "points": 500, "value": 500, "odds": 10},
        {"code": "c20", "kind": "coupon", "coupon": "c20", "value": 2000, "odds": 5},
        {"code": "none", "kind": "none", "odds": 85},
    ],
}


def wheel(**changes) -> dict:
    """The wheel with `changes`; a change to None leaves that key out."""
    found = copy.deepcopy(WHEEL) | changes
    return {key: value for key, value in found.items() if value is not None}


def set_up(actor, *lotteries: dict) -> None:
    apply_program(actor, {"coupon_templates": COUPONS, "lotteries": list(lotteries or [WHEEL])})


def member_with_points(actor, mobile: str, points: int):
    member = register_member(actor, {"mobile": mobile, "name": "抽奖人"})
    if points:
        ledger.earn_points(actor, member, points, key=f"seed-points-{mobile}", pending_days=0)
    return member


def points_of(member) -> int:
    return ledger.quick_balances(member)["points"]
