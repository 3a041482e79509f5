"""A three-store chain with stored value moving between stores, made with the real services."""

from __future__ import annotations

import datetime as dt
import itertools

from django.utils import timezone

from patron.ledger.services import Context
from patron.members.services import register_member
from patron.program.services import apply_program
from patron.sales.services import LineInput, RefundAsk, SaleRequest, commit_sale, refund_sale
from patron.tenancy.services import create_store
from patron.wallet.services import top_up

PROGRAM = {
    "categories": ["dishes"],
    "promotions": [
        {
            "code": "s1treat",
            "name": "西湖店请客",
            "kind": "code",
            "benefit": {"type": "fixed", "value": 1000},
            "priority": 10,
        }
    ],
    "coupon_templates": [
        {
            "code": "s1cash",
            "name": "西湖店十元券",
            "benefit": {"type": "fixed", "value": 1000},
            "valid_days": 30,
        }
    ],
    "checkout": {"backdate_days": 365},
}
_keys = itertools.count(1)


def make_chain(system, stores):
    """S1 and S2 of the `stores` fixture and S3, under the program above."""
    stores["S3"] = create_store(system, "S3", "钱江店")
    apply_program(system, PROGRAM)
    return stores


def member(system, mobile: str):
    return register_member(system, {"mobile": mobile, "store": "S1"})


def deposit(actor, who, amount: int, store, at: dt.datetime | None = None):
    return top_up(
        actor, who, amount, key=f"t{next(_keys)}", context=Context(store=store, occurred_at=at)
    )


def spend(actor, who, store: str, prices: list[int], *, at=None, codes=(), stored_value=None):
    """A sale of one dish per price, paid with stored value (all of it unless told)."""
    lines = [
        LineInput(sku=f"DISH-{i}", category="dishes", unit_price=p) for i, p in enumerate(prices)
    ]
    request = SaleRequest(
        lines=lines,
        member=who.pk,
        store=store,
        occurred_at=at,
        codes=list(codes),
        stored_value=sum(prices) if stored_value is None else stored_value,
    )
    return commit_sale(actor, request, key=f"s{next(_keys)}")


def give_back(actor, sale, sku: str | None = None):
    ask = RefundAsk(lines=((sku, 1),)) if sku else RefundAsk(all=True)
    return refund_sale(actor, sale, ask, key=f"r{next(_keys)}")


def last_month_day(merchant, day: int = 10) -> dt.datetime:
    """Noon on `day` of last month in the merchant's zone."""
    from zoneinfo import ZoneInfo

    now = timezone.localtime(timezone.now(), ZoneInfo(merchant.timezone))
    first = now.replace(day=1, hour=12, minute=0, second=0, microsecond=0)
    return (first - dt.timedelta(days=1)).replace(day=day)


def last_month_moves(system, chain, moves: list[tuple[str, str, int, str]]) -> str:
    """Last month's history: per (mobile, top-up store, amount, spending store) a member tops
    up `amount` at one store and spends all of it at the other. Answers the month."""
    merchant = system.merchant
    day = last_month_day(merchant)
    for mobile, at_store, amount, spent_at in moves:
        who = member(system, mobile)
        deposit(system, who, amount, chain[at_store], at=day)
        spend(system, who, spent_at, [amount], at=day)
    return month_label(merchant, day)


def month_label(merchant, moment: dt.datetime) -> str:
    from patron.network.settlement_selectors import merchant_zone, month_of

    return month_of(moment, merchant_zone(merchant.timezone))
