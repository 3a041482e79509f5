"""A program whose tiers move, and helpers to sell at a given price and time."""

from __future__ import annotations

import datetime as dt

from patron.members.services import register_member
from patron.program.services import apply_program
from patron.sales import services as sales
from patron.sales.models import Sale

PROGRAM = {
    "categories": ["rooms", "dishes"],
    "tiers": [
        {"code": "normal", "name": "普通会员", "rank": 0},
        {
            "code": "silver",
            "name": "银卡会员",
            "rank": 1,
            "discount": {"rooms": 88},
            "upgrade_when": {"spend_12m": 100000},
            "keep_when": {"spend_12m": 50000},
            "grace_days": 30,
            "privileges": ["延迟退房"],
        },
        {
            "code": "gold",
            "name": "金卡会员",
            "rank": 2,
            "discount": {"rooms": 80},
            "points_multiplier": 1.5,
            "upgrade_when": {"spend_12m": 500000, "single_topup": 100000},
            "keep_when": {"spend_12m": 300000},
            "grace_days": 10,
            "birthday_gift": {"points": 200},
        },
    ],
    "points": {
        "earn": {"per_amount": 100, "points": 1},
        "expiry": {"policy": "never"},
        "pending_days": 0,
    },
}


def setup(system) -> None:
    apply_program(system, PROGRAM)


def member(system, mobile="13800138000"):
    return register_member(system, {"mobile": mobile, "store": "S1"})


def sell(actor, member, fen: int, key: str, at: dt.datetime | None = None) -> Sale:
    """One dish line at `fen`; `at` rewrites the sale's time afterwards (tests of windows)."""
    sale = sales.commit_sale(
        actor,
        sales.SaleRequest(
            lines=[sales.LineInput(sku="DISH", category="dishes", unit_price=fen)],
            member=member.pk,
            store="S1",
        ),
        key=key,
    )
    if at is not None:
        Sale.objects.filter(pk=sale.pk).update(occurred_at=at)
    member.refresh_from_db()
    return sale
