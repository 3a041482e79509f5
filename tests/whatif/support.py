"""A small merchant whose history the what-if tests replay: two stores, tiers that move, a
points rule, a coupon template; sales committed through the till's own service."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from patron.members.services import register_member
from patron.program.services import apply_program, export_program
from patron.sales import services as sales
from patron.sales.models import Sale
from patron.whatif import services as whatif

SH = ZoneInfo("Asia/Shanghai")
PROGRAM: dict[str, Any] = {
    "categories": ["rooms", "dishes"],
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
            "upgrade_when": {"spend_12m": 300000},
        },
    ],
    "points": {
        "earn": {"per_amount": 100, "points": 1},
        "redeem_cash": {"points": 100, "value": 100, "max_share_percent": 50},
        "expiry": {"policy": "never"},
        "pending_days": 0,
    },
    "coupon_templates": [
        {
            "code": "c20",
            "name": "满减券",
            "benefit": {"type": "fixed", "value": 2000},
            "valid_days": 30,
        }
    ],
}


def setup(system) -> None:
    apply_program(system, PROGRAM)


def member(system, mobile: str, store: str = "S1"):
    return register_member(system, {"mobile": mobile, "store": store})


def sell(
    actor,
    member,
    lines: list[tuple[str, str, int]],
    key: str,
    *,
    store: str = "S1",
    codes: list[str] | None = None,
    points: int = 0,
) -> Sale:
    """Lines as (sku, category, unit price in fen), one of each, sold now."""
    return sales.commit_sale(
        actor,
        sales.SaleRequest(
            lines=[sales.LineInput(sku=s, category=c, unit_price=p) for s, c, p in lines],
            member=None if member is None else member.pk,
            store=store,
            codes=codes or [],
            points_to_redeem=points,
        ),
        key=key,
    )


def today() -> dt.date:
    return timezone.now().astimezone(SH).date()


def draft(system, **sections: Any) -> dict[str, Any]:
    """The current program with `sections` replaced (as a merchant edits an exported file)."""
    document = copy.deepcopy(export_program(system))
    document.update(sections)
    return document


def tiers_with(system, code: str, **changes: Any) -> list[dict[str, Any]]:
    rows = copy.deepcopy(export_program(system)["tiers"])
    for row in rows:
        if row["code"] == code:
            row.update(changes)
    return rows


def run(system, document: dict[str, Any], first: dt.date | None = None, store: str | None = None):
    day = today()
    asked = whatif.question(system, first or day - dt.timedelta(days=30), day, store)
    return whatif.simulate(system, document, asked)
