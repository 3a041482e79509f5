"""A small fixed history for the dashboard tests (tests/insight/test_reports_*.py), every figure
worked by hand in tests/insight/test_reports_figures.py.

Merchant in Asia/Shanghai, stores S1 (西湖店) and S2 (滨江店), cashiers ann (S1) and bob (S2).
The range asked for is D1..D3 (three local days, ten days ago); D0 is the day before, D4 the
day after. Points: 1 per yuan paid, 100 points = 1.00.

    members  A  S1, joined D1 09:00, recruited by ann      lifecycle active
             B  S2, joined D0 23:59:30 (out), by bob        lifecycle dormant
             C  S1, joined D3 23:59:30 (in), by ann         (not scored)
             E  S2, joined D4 00:00:30 (out)                (not scored)
             F  S1, joined D0 10:00 (out)                   lifecycle inert
    sales    #1  D1 10:00     S1 ann  A        100.00
             #2  D1 00:00:10  S1 ann  walk-in   50.00   (first seconds of the range)
             #3  D1 12:00     S2 bob  B         80.00
             #4  D2 10:00     S1 ann  A        120.00 - coupon cash20 20.00 = 100.00
             #5  D2 11:00     S2 bob  walk-in  2 x 15.00; one refunded D3 10:00 (15.00)
             #6  D3 23:59:50  S2 bob  B         40.00   (last seconds of the range)
             #7  D0 20:00     S1 ann  A         30.00   (out: the day before)
             #8  D4 00:00:05  S1 ann  C         20.00   (out: the day after)
             #10 D2 15:00     S2 -    B         60.00   imported history (channel import)
             #11 D2 14:00     S1 ann  F         20.00
             #12 D2 18:00     S1 ann  F         10.00   (F's second sale, same day)
    A tops up 500.00 at S1 on D1 12:00.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.utils import timezone

from patron.insight.models import MemberInsight
from patron.ledger import services as ledger
from patron.members.models import Member
from patron.members.services import register_member
from patron.program.services import apply_program
from patron.promotions.models import Coupon
from patron.promotions.services import issue_coupon
from patron.sales import services as sales
from patron.sales.models import Refund, Sale
from patron.tenancy.models import Role
from tests.conftest import staff_actor

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
PROGRAM = {
    "categories": ["dishes"],
    "points": {
        "earn": {"per_amount": 100, "points": 1},
        "redeem_cash": {"points": 100, "value": 100, "max_share_percent": 50},
        "expiry": {"policy": "never"},
        "pending_days": 0,
    },
    "coupon_templates": [
        {
            "code": "cash20",
            "name": "满100减20",
            "condition": {"min_amount": 10000},
            "benefit": {"type": "fixed", "value": 2000},
            "valid_days": 30,
        },
    ],
    "checkout": {"backdate_days": 365},
}


@dataclass
class History:
    d1: dt.date
    d3: dt.date
    members: dict[str, Member]
    ann: object
    bob: object


def at(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute, second), tzinfo=SHANGHAI)


def member(system, mobile: str, store: str, when: dt.datetime, recruiter=None) -> Member:
    found = register_member(system, {"mobile": mobile, "store": store})
    Member.objects.filter(pk=found.pk).update(
        joined_at=when, recruited_by=recruiter.staff.user if recruiter else None
    )
    found.refresh_from_db()
    return found


def sell(actor, store, when, price, *, buyer=None, quantity=1, codes=(), key):
    line = sales.LineInput(
        sku="DISH", name="菜", category="dishes", quantity=quantity, unit_price=price
    )
    request = sales.SaleRequest(
        lines=[line],
        member=buyer.pk if buyer else None,
        store=store,
        occurred_at=when,
        codes=list(codes),
    )
    return sales.commit_sale(actor, request, key=key)


def imported(system, store, buyer, when, total, key) -> Sale:
    """A history sale as `patron import sales` writes it: no tenders, no points."""
    return Sale.objects.create(
        merchant=system.merchant,
        member=buyer,
        store=store,
        channel="import",
        idempotency_key=key,
        occurred_at=when,
        subtotal=total,
        discount=0,
        total=total,
    )


def build(system, stores) -> History:
    apply_program(system, PROGRAM)
    d1 = timezone.now().astimezone(SHANGHAI).date() - dt.timedelta(days=10)
    d0, d2, d3, d4 = (d1 + dt.timedelta(days=n) for n in (-1, 1, 2, 3))
    ann = staff_actor(system, "ann", Role.CASHIER, stores["S1"])
    bob = staff_actor(system, "bob", Role.CASHIER, stores["S2"])
    a = member(system, "13800138001", "S1", at(d1, 9), ann)
    b = member(system, "13800138002", "S2", at(d0, 23, 59, 30), bob)
    c = member(system, "13800138003", "S1", at(d3, 23, 59, 30), ann)
    e = member(system, "13800138005", "S2", at(d4, 0, 0, 30))
    f = member(system, "13800138006", "S1", at(d0, 10))

    coupon = issue_coupon(system, a, "cash20")
    Coupon.objects.filter(pk=coupon.pk).update(issued_at=at(d1, 8), valid_from=at(d1, 8))
    ledger.top_up(
        system,
        a,
        50000,
        key="t-a",
        context=ledger.Context(store=stores["S1"], occurred_at=at(d1, 12)),
    )
    sell(ann, "S1", at(d1, 10), 10000, buyer=a, key="s1")
    sell(ann, "S1", at(d1, 0, 0, 10), 5000, key="s2")
    sell(bob, "S2", at(d1, 12), 8000, buyer=b, key="s3")
    sell(ann, "S1", at(d2, 10), 12000, buyer=a, codes=[coupon.code], key="s4")
    walk_in = sell(bob, "S2", at(d2, 11), 1500, quantity=2, key="s5")
    sell(bob, "S2", at(d3, 23, 59, 50), 4000, buyer=b, key="s6")
    sell(ann, "S1", at(d0, 20), 3000, buyer=a, key="s7")
    sell(ann, "S1", at(d4, 0, 0, 5), 2000, buyer=c, key="s8")
    imported(system, stores["S2"], b, at(d2, 15), 6000, "import:s10")
    sell(ann, "S1", at(d2, 14), 2000, buyer=f, key="s11")
    sell(ann, "S1", at(d2, 18), 1000, buyer=f, key="s12")
    refund = sales.refund_sale(bob, walk_in, sales.RefundAsk(lines=(("DISH", 1),)), key="r5")
    Refund.objects.filter(pk=refund.pk).update(created_at=at(d3, 10))

    for who, stage in ((a, "active"), (b, "dormant"), (f, "inert")):
        # The sales above scored them already (live stats and lifecycle); pin the stage.
        MemberInsight.objects.update_or_create(
            member=who, defaults={"merchant": system.merchant, "lifecycle": stage}
        )
    return History(d1, d3, {"A": a, "B": b, "C": c, "E": e, "F": f}, ann, bob)
