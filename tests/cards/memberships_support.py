"""A program with tiers and card products (a card, a paid SVIP, a no-refund paid product) and
a member, for the paid-membership, PIN and card-product tests."""

from __future__ import annotations

import pytest

from patron.members.services import register_member
from patron.program.services import apply_program

PROGRAM = {
    "tiers": [
        {"code": "normal", "name": "普通会员", "rank": 0},
        {"code": "silver", "name": "银卡会员", "rank": 1},
        {"code": "gold", "name": "金卡会员", "rank": 2},
    ],
    "card_products": [
        {"code": "std", "name": "会员卡", "fee": 3800, "tier": "normal", "physical": True},
        {"code": "svip", "name": "年卡SVIP", "fee": 19900, "tier": "gold", "paid_days": 365},
        {
            "code": "month",
            "name": "月卡",
            "fee": 3000,
            "tier": "silver",
            "paid_days": 30,
            "refund": {"allowed": False},
        },
        {
            "code": "flat",
            "name": "不退款年卡",
            "fee": 10000,
            "tier": "gold",
            "paid_days": 365,
            "refund": {"pro_rata": False},
        },
    ],
}


@pytest.fixture(name="card_program")
def card_program_fixture(system, stores):
    apply_program(system, PROGRAM)
    return PROGRAM


@pytest.fixture(name="member")
def member_fixture(system, card_program):
    return register_member(system, {"mobile": "13900139000", "name": "张三", "store": "S1"})
