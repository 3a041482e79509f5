"""Eighteen months of demo purchases with the repeat behaviour of real members, so lifecycle,
RFM and value have something to say (docs/demo.md).

Each member gets a habit: frequent guests come back every few weeks, regulars every couple
of months, some stopped coming half a year ago (lapsing), some only came long ago (dormant),
some came once, and a fifth never bought. Their visits older than `CHECKOUT_DAYS` are stored
as imported history (Sale rows with channel "import", as `patron import sales` stores a
merchant's past: no points, no ledger movement, no tier move, MemberStats updated), in bulk;
the recent ones go through the real checkout so points, coupons, refunds, shifts and the home
page behave as in the shop.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass

from django.utils import timezone

from patron.core.bulk import insert_many
from patron.demo.data import CATALOGUE, RESTAURANT_CATEGORIES, RESTAURANT_HOURS
from patron.members.models import Member
from patron.sales.models import MemberStats, Sale, SaleLine
from patron.sales.services import LineInput
from patron.tenancy.models import Merchant, Store
from patron.tenancy.permissions import merchant_zone

HISTORY_DAYS = 540  # about 18 months
CHECKOUT_DAYS = 30  # newer visits are rung up through the checkout (its usual back-dating window)
BATCH = 2000  # MemberStats rows per insert


@dataclass(frozen=True)
class Habit:
    name: str
    share: float  # of the members
    cycle_days: tuple[int, int]  # the member's own mean days between visits, drawn in this range
    stopped_days_ago: tuple[int, int] | None = None  # came until then, not since
    most_visits: int | None = None  # at most this many visits in all


HABITS = [
    Habit("frequent", 0.12, (10, 30)),
    Habit("regular", 0.25, (45, 90)),
    Habit("lapsing", 0.15, (20, 60), stopped_days_ago=(120, 240)),
    Habit("dormant", 0.15, (60, 120), stopped_days_ago=(300, 500), most_visits=3),
    Habit("once", 0.13, (1, 1), most_visits=1),
    Habit("never", 0.20, (1, 1), most_visits=0),
]


@dataclass(frozen=True)
class Visit:
    member: Member | None  # None: a walk-in guest
    store: Store
    occurred_at: dt.datetime
    lines: list[LineInput]


def basket(rng: random.Random) -> list[LineInput]:
    picks = rng.sample(CATALOGUE, rng.randint(1, 4))
    return [
        LineInput(
            sku=sku,
            name=name,
            category=category,
            quantity=1 if category in ("rooms", "retail") else rng.randint(1, 3),
            unit_price=price,
            brand=brand,
        )
        for sku, name, category, price, brand in picks
    ]


def moment_on(rng: random.Random, lines: list[LineInput], day: dt.date, zone) -> dt.datetime:
    """A moment of `day` (local) when the basket can be sold: any hour for rooms and the shop,
    the restaurant's hours when it holds a dish or a drink."""
    if any(line.category in RESTAURANT_CATEGORIES for line in lines):
        (h1, m1), (h2, m2) = rng.choice(RESTAURANT_HOURS)
        start = dt.datetime.combine(day, dt.time(h1, m1), tzinfo=zone)
        minutes = (h2 * 60 + m2) - (h1 * 60 + m1)
    else:
        start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
        minutes = 24 * 60
    return start + dt.timedelta(seconds=rng.uniform(0, minutes * 60 - 1))


def habit_of(rng: random.Random) -> Habit:
    return rng.choices(HABITS, [h.share for h in HABITS])[0]


def visit_days(
    rng: random.Random, habit: Habit, first: dt.datetime, last: dt.datetime
) -> list[dt.datetime]:
    """The days a member of `habit` came between `first` (joined, or 18 months ago) and
    `last`: gaps drawn around the member's own cycle (gamma, shape 2: regular but not
    clockwork)."""
    if habit.most_visits == 0 or first >= last:
        return []
    if habit.stopped_days_ago is not None:
        last = min(last, timezone.now() - dt.timedelta(days=rng.randint(*habit.stopped_days_ago)))
        if first >= last:
            return []
    span = (last - first).total_seconds()
    if habit.most_visits == 1:
        return [first + dt.timedelta(seconds=rng.uniform(0, span))]
    cycle = rng.uniform(*habit.cycle_days)
    days = []
    moment = first + dt.timedelta(days=rng.uniform(0, cycle))
    while moment < last:
        days.append(moment)
        moment += dt.timedelta(days=max(1.0, rng.gammavariate(2, cycle / 2)))
    if habit.most_visits is not None:
        days = days[: habit.most_visits]
    return days


def plan_visits(
    merchant: Merchant, members: list[Member], stores: list[Store], walk_ins: int, seed: int = 19
) -> list[Visit]:
    """Every demo visit of the last 18 months, members' and walk-in guests', oldest first."""
    rng = random.Random(seed)
    zone = merchant_zone(merchant.timezone)
    now = timezone.now()
    # The engine refuses a sale dated after the moment it prices it: keep a minute's margin.
    last = now - dt.timedelta(minutes=1)
    start = now - dt.timedelta(days=HISTORY_DAYS)
    visits: list[Visit] = []
    for member in members:
        habit = habit_of(rng)
        home = member.store or rng.choice(stores)
        for day in visit_days(rng, habit, max(member.joined_at, start), last):
            lines = basket(rng)
            when = moment_on(rng, lines, timezone.localtime(day, zone).date(), zone)
            if max(member.joined_at, start) <= when <= last:
                store = home if rng.random() < 0.8 else rng.choice(stores)
                visits.append(Visit(member, store, when, lines))
    for _guest in range(walk_ins):
        lines = basket(rng)
        day = start + dt.timedelta(seconds=rng.uniform(0, (last - start).total_seconds()))
        when = moment_on(rng, lines, timezone.localtime(day, zone).date(), zone)
        if start <= when <= last:
            visits.append(Visit(None, rng.choice(stores), when, lines))
    visits.sort(key=lambda v: v.occurred_at)
    return visits


SALE_COLUMNS = (
    "merchant_id",
    "member_id",
    "store_id",
    "channel",
    "idempotency_key",
    "occurred_at",
    "created_at",
    "status",
    "subtotal",
    "member_discount",
    "discount",
    "points_redeemed",
    "points_value",
    "total",
    "stored_value_paid",
    "cash_due",
    "points_earned",
    "points_pending",
    "saved",
    "codes",
)
LINE_COLUMNS = (
    "sale_id",
    "merchant_id",
    "position",
    "sku",
    "name",
    "category",
    "brand",
    "model",
    "size",
    "colour",
    "quantity",
    "unit_price",
    "member_price",
    "discount",
    "points_offset",
    "total",
    "points_earned",
    "gift",
    "refunded_quantity",
    "store_id",
    "occurred_at",
)


def import_history(merchant: Merchant, visits: list[Visit]) -> int:
    """Store `visits` as imported sales, and the members' running figures from them: plain
    multi-row inserts (`core.bulk`), as an import of this size would. Runs before any checkout
    sale of the demo, so the figures start here."""
    keys = [f"import:demo-{n}" for n in range(len(visits))]
    insert_many(
        Sale,
        SALE_COLUMNS,
        (
            (merchant.pk, v.member.pk if v.member else None, v.store.pk, "import", key)
            + (v.occurred_at, v.occurred_at, Sale.Status.COMPLETED, _total(v.lines), 0, 0)
            + (0, 0, _total(v.lines), 0, 0, 0, False, 0, [])
            for key, v in zip(keys, visits, strict=True)
        ),
    )
    ids = dict(
        Sale.objects.filter(merchant=merchant, channel="import").values_list(
            "idempotency_key", "pk"
        )
    )
    insert_many(
        SaleLine,
        LINE_COLUMNS,
        (
            (ids[key], merchant.pk, position, line.sku, line.name, line.category, line.brand)
            + ("", "", "", line.quantity, line.unit_price, line.unit_price, 0, 0)
            + (line.unit_price * line.quantity, 0, False, 0, v.store.pk, v.occurred_at)
            for key, v in zip(keys, visits, strict=True)
            for position, line in enumerate(v.lines, start=1)
        ),
    )
    _stats_from(merchant, visits)
    return len(visits)


def _total(lines: list[LineInput]) -> int:
    return sum(line.unit_price * line.quantity for line in lines)


def _stats_from(merchant: Merchant, visits: list[Visit]) -> None:
    figures: dict[int, MemberStats] = {}
    spent: dict[int, int] = defaultdict(int)
    for visit in visits:  # oldest first
        if visit.member is None:
            continue
        member_id = visit.member.pk
        row = figures.get(member_id)
        if row is None:
            row = figures[member_id] = MemberStats(
                member_id=member_id, merchant=merchant, first_visit_at=visit.occurred_at
            )
        row.visits += 1
        spent[member_id] += _total(visit.lines)
        row.last_visit_at = visit.occurred_at
    for member_id, row in figures.items():
        row.total_spend = spent[member_id]
        row.average_ticket = row.total_spend // row.visits
    MemberStats.objects.bulk_create(figures.values(), batch_size=BATCH)
