"""What if (issue 22): a year of recorded sales replayed under the current program and a draft.

    .venv/bin/python bench/whatif.py [--sales 1000000] [--members 150000] [--workers N]
        [--pg postgres://postgres@127.0.0.1:5432/] [--database patron_bench_whatif] [--reuse]

1. Builds (unless --reuse finds it built with the same --sales and --members) one merchant
   `bench` with a demo-like program (tiers normal / silver / gold with category discounts,
   upgrade_when / keep_when; automatic promotions: a Tuesday members' day, drinks 3-for-2,
   retail 满 300 减 30, gold double points; the WELCOME20 code; points earn and redeem; the
   dish50 coupon), --members members and --sales sales over the last 12 months (1-4 lines
   each from 200 SKUs in 4 categories; walk-ins, points redeemed, WELCOME20 typed, coupons,
   imported history, refunds), plus the year before the range for a third of the members.
   Every sale's recorded figures and every tier change come from the engine: the builder walks
   each member through both years as the till and the nightly review would have (`walk_member`,
   the replay's own tier walk), so replaying the current program is faithful but where the
   replay cannot know a member's state (a grace period running when the range starts).
   Rows go in by COPY on PostgreSQL (a multi-row INSERT elsewhere).
2. Runs `whatif.services.simulate` in this process with the current program and a draft (gold
   rooms 8折 -> 8.8折, points 1 per yuan -> 1 per 2 yuan) and prints the wall time of each
   phase (rules, history read, walk, total), sales/s, peak RSS, how faithful the replay was.
3. The baseline: bare `pricing.quote` of the same baskets (one quote per sale, member, tier
   and time as recorded) in this process and in N forked processes, and the ratio
   replay / bare.

Prints figures; asserts nothing. docs/whatif.md ("Speed") keeps them.
"""

from __future__ import annotations

import argparse
import bisect
import copy
import datetime as dt
import itertools
import json
import multiprocessing
import os
import random
import resource
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MERCHANT = "bench"
ZONE = ZoneInfo("Asia/Shanghai")
STORES = ["S1", "S2", "S3", "S4", "S5"]
CATEGORIES = ["rooms", "dishes", "drinks", "retail"]
# SKUs per category and their unit prices (fen): 200 in all.
ASSORTMENT = {
    "rooms": (20, 20000, 80000),
    "dishes": (80, 1800, 12800),
    "drinks": (60, 800, 4800),
    "retail": (40, 2800, 32000),
}
PROGRAM: dict[str, Any] = {
    "stores": [{"code": code, "name": f"{n}号店"} for n, code in enumerate(STORES, 1)],
    "categories": CATEGORIES,
    "points": {
        "earn": {"per_amount": 100, "points": 1},
        "redeem_cash": {"points": 100, "value": 100, "max_share_percent": 50},
        "expiry": {"policy": "end_of_next_year"},
        "pending_days": 0,
    },
    "tiers": [
        {"code": "normal", "name": "普通会员", "rank": 0},
        {
            "code": "silver",
            "name": "银卡会员",
            "rank": 1,
            "discount": {"rooms": 88},
            "upgrade_when": {"spend_12m": 150000},
            "keep_when": {"spend_12m": 80000},
        },
        {
            "code": "gold",
            "name": "金卡会员",
            "rank": 2,
            "discount": {"rooms": 80, "dishes": 90},
            "points_multiplier": 1.5,
            "upgrade_when": {"spend_12m": 600000},
            "keep_when": {"spend_12m": 300000},
        },
    ],
    "promotions": [
        {
            "code": "tuesday",
            "name": "周二会员日",
            "kind": "automatic",
            "members_only": True,
            "condition": {"weekdays": [2]},
            "benefit": {"type": "percent", "value": 10},
            "priority": 10,
        },
        {
            "code": "drinks3for2",
            "name": "饮品买二送一",
            "kind": "automatic",
            "condition": {"categories": ["drinks"]},
            "benefit": {"type": "free_items", "buy": 2, "get": 1, "categories": ["drinks"]},
            "priority": 20,
        },
        {
            "code": "retail300",
            "name": "零售满 300 减 30",
            "kind": "automatic",
            "condition": {"min_amount": 30000, "categories": ["retail"]},
            "benefit": {"type": "fixed", "value": 3000, "categories": ["retail"]},
            "priority": 25,
        },
        {
            "code": "WELCOME20",
            "name": "新客满 200 减 20",
            "kind": "code",
            "condition": {"min_amount": 20000, "first_purchase": True},
            "benefit": {"type": "fixed", "value": 2000},
            "stacking": "exclusive",
            "priority": 30,
        },
        {
            "code": "gold_points",
            "name": "金卡双倍积分",
            "kind": "automatic",
            "condition": {"tiers": ["gold"]},
            "benefit": {"type": "points_multiplier", "value": 2},
            "priority": 90,
        },
    ],
    "coupon_templates": [
        {
            "code": "dish50",
            "name": "餐饮满 200 减 50",
            "benefit": {"type": "fixed", "value": 5000, "categories": ["dishes"]},
            "condition": {"min_amount": 20000},
            "valid_days": 30,
        },
    ],
}
# Shares of the sales (the rest: members at the till).
WALK_IN_SHARE = 0.15
REDEEM_SHARE = 0.04  # member sales that pay with points
COUPON_SHARE = 0.004  # member sales with a dishes line that use a dish50 coupon
WELCOME_SHARE = 0.3  # first purchases on which WELCOME20 is typed
REFUND_SHARE = 0.005
IMPORTED_DAYS, IMPORTED_SHARE = 60, 0.2  # member sales in the range's first days, imported
JOINED_IN_RANGE = 0.15  # members who join during the range
HISTORY_SHARE = 0.35  # members with sales in the year before the range
LINE_COUNTS, LINE_WEIGHTS = (1, 2, 3, 4), (40, 30, 20, 10)
QUANTITIES, QUANTITY_WEIGHTS = (1, 2, 3), (75, 18, 7)


# --- the plan: who buys what, when -----------------------------------------------------------


@dataclass
class PlannedSale:
    member: int | None  # index into Plan.members, None for a walk-in
    store: str
    at: dt.datetime
    lines: tuple  # pricing.Line
    points_asked: int = 0
    welcome: bool = False
    coupon: bool = False
    imported: bool = False
    refund: tuple[dt.datetime, bool] | None = None  # (when, in full)
    in_range: bool = True


@dataclass
class PlannedMember:
    joined_at: dt.datetime
    store: str
    sales: list[PlannedSale] = field(default_factory=list)


@dataclass
class Plan:
    start: dt.datetime
    end: dt.datetime
    members: list[PlannedMember]
    walk_ins: list[PlannedSale]
    catalogue: list[tuple[str, str, int]]

    @property
    def sales(self) -> int:
        return len(self.walk_ins) + sum(len(m.sales) for m in self.members)


def the_range(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last 12 months, yesterday included."""
    last = today - dt.timedelta(days=1)
    return today - dt.timedelta(days=365), last


def local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=ZONE)


def make_catalogue(rng: random.Random) -> list[tuple[str, str, int]]:
    from patron.engine import pricing  # noqa: F401  (the engine loads before any quote)

    catalogue = []
    for category, (count, low, high) in ASSORTMENT.items():
        for n in range(count):
            price = rng.randrange(low, high) // 100 * 100
            catalogue.append((f"{category[:3].upper()}-{n:03d}", category, price))
    return catalogue


def make_plan(sales: int, members: int, today: dt.date, seed: int = 2026) -> Plan:
    """Every sale's member, store, moment and lines: --sales in the range, members' purchases
    in the year before it on top. Popular SKUs sell more (Zipf-like weights)."""
    from patron.engine import pricing

    rng = random.Random(seed)
    first, last = the_range(today)
    start, end = local_midnight(first), local_midnight(last + dt.timedelta(days=1))
    before = start - dt.timedelta(days=365)
    catalogue = make_catalogue(rng)
    order = list(range(len(catalogue)))
    rng.shuffle(order)
    weights = [0.0] * len(catalogue)
    for rank, index in enumerate(order):
        weights[index] = 1 / (rank + 1) ** 0.9
    cumulative = list(itertools.accumulate(weights))
    line_of: dict[tuple[int, int], Any] = {}

    def basket() -> tuple:
        count = rng.choices(LINE_COUNTS, LINE_WEIGHTS)[0]
        chosen: list[int] = []
        while len(chosen) < count:
            index = bisect.bisect(cumulative, rng.random() * cumulative[-1])
            if index not in chosen:
                chosen.append(index)
        lines = []
        for index in chosen:
            quantity = rng.choices(QUANTITIES, QUANTITY_WEIGHTS)[0]
            line = line_of.get((index, quantity))
            if line is None:
                sku, category, price = catalogue[index]
                line = line_of[(index, quantity)] = pricing.Line(sku, category, quantity, price)
            lines.append(line)
        return tuple(lines)

    def moment(low: dt.datetime, high: dt.datetime) -> dt.datetime:
        days = max(1, (high - low).days)
        day = (low + dt.timedelta(days=rng.randrange(days))).astimezone(ZONE).date()
        seconds = rng.randrange(10 * 3600, 22 * 3600)
        return local_midnight(day) + dt.timedelta(seconds=seconds)

    people = []
    for n in range(members):
        if rng.random() < JOINED_IN_RANGE:
            joined = start + dt.timedelta(days=rng.randrange(330), seconds=rng.randrange(86400))
        else:
            joined = before - dt.timedelta(days=rng.randrange(1, 1200))
        people.append(PlannedMember(joined, STORES[n % len(STORES)]))
    # How often each member buys: a long tail (a few buy every week).
    appetite = list(itertools.accumulate(rng.lognormvariate(0, 1.1) for _ in range(members)))
    walk_ins: list[PlannedSale] = []
    for _ in range(sales):
        store = STORES[min(int(rng.paretovariate(1.5)) - 1, len(STORES) - 1)]
        if rng.random() < WALK_IN_SHARE:
            walk_ins.append(PlannedSale(None, store, moment(start, end), basket()))
            continue
        who = bisect.bisect(appetite, rng.random() * appetite[-1])
        person = people[who]
        at = moment(max(start, person.joined_at), end)
        if at < person.joined_at:
            at = person.joined_at + dt.timedelta(minutes=5)
        person.sales.append(PlannedSale(who, store, at, basket()))
    for who, person in enumerate(people):
        if person.joined_at < before and rng.random() < HISTORY_SHARE:
            for _ in range(rng.randint(1, 4)):
                lines = basket()
                at = moment(before, start)
                person.sales.append(PlannedSale(who, person.store, at, lines, in_range=False))
        person.sales.sort(key=lambda sale: sale.at)
        for index, sale in enumerate(person.sales):
            decorate(rng, sale, index == 0, start)
    walk_ins.sort(key=lambda sale: sale.at)
    for sale in walk_ins:
        decorate(rng, sale, False, start)
    return Plan(start, end, people, walk_ins, catalogue)


def decorate(rng: random.Random, sale: PlannedSale, first: bool, start: dt.datetime) -> None:
    """Points, codes, coupons, imports and refunds on a share of the sales."""
    if sale.member is not None:
        if rng.random() < REDEEM_SHARE:
            sale.points_asked = rng.choice((500, 1000, 2000, 5000))
        sale.welcome = first and rng.random() < WELCOME_SHARE
        has_dishes = any(line.category == "dishes" for line in sale.lines)
        sale.coupon = has_dishes and not sale.welcome and rng.random() < COUPON_SHARE * 4
        early = sale.at < start + dt.timedelta(days=IMPORTED_DAYS)
        sale.imported = sale.in_range and early and rng.random() < IMPORTED_SHARE
    if not sale.imported and rng.random() < REFUND_SHARE:
        later = sale.at + dt.timedelta(days=rng.randint(0, 5), hours=rng.randint(1, 20))
        sale.refund = (later, rng.random() < 0.6)


# --- pricing it: the figures the till would have recorded --------------------------------------


@dataclass
class Priced:
    """One planned sale as recorded: its id, the engine's quote, the coupon it used."""

    id: int
    sale: PlannedSale
    quote: Any  # pricing.Quote
    codes: tuple[str, ...] = ()
    coupon: tuple[str, dt.datetime, dt.datetime] | None = None  # (code, valid from, until)
    refund: tuple[dt.datetime, int, int, bool] | None = None  # (when, amount, points, in full)


@dataclass
class TierMove:
    member: int
    at: dt.datetime
    from_code: str | None
    to_code: str | None
    reason: str


@dataclass
class Recorded:
    sales: list[Priced]
    moves: list[TierMove]
    end_tiers: list[str | None]


class Quotes:
    """The builder's quote cache: the program has no dated promotions, so a sale without
    codes prices the same for the same lines, tier, weekday, first purchase and points."""

    def __init__(self, rules: Any) -> None:
        self.rules = rules
        self.cache: dict[tuple, Any] = {}

    def of(self, sale: PlannedSale, member_id: int | None, tier: str | None, first: bool):

        weekday = sale.at.astimezone(ZONE).isoweekday()
        key = (sale.lines, member_id is None, tier, first, weekday, sale.points_asked)
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = self.price(sale, member_id, tier, first, (), {})
        return found

    def price(self, sale, member_id, tier, first, codes, coupons):
        from patron.engine import pricing

        context = pricing.MemberContext(
            member_id=str(member_id) if member_id is not None else None,
            tier=tier,
            points_available=sale.points_asked,
            first_purchase=first,
            coupons=coupons,
        )
        basket = pricing.Basket(
            sale.store, sale.lines, codes=codes, points_to_redeem=sale.points_asked
        )
        return pricing.quote(basket, context, self.rules.program, sale.at)


def record_sales(plan: Plan, rules: Any, member_ids: Sequence[int]) -> Recorded:
    """Every sale priced as the till would have priced it, each member walked through time
    (tiers moved by the sales and the nightly review, as `replay` moves them)."""
    ids = itertools.count(1)
    quotes = Quotes(rules)
    coupons = itertools.count(1)
    priced: list[Priced] = []
    moves: list[TierMove] = []
    end_tiers: list[str | None] = []
    walk_start = plan.start - dt.timedelta(days=366)
    for who, person in enumerate(plan.members):
        member_id = member_ids[who]
        found, member_moves, tier = walk_member(
            person, member_id, rules, quotes, walk_start, plan.end, coupons
        )
        for sale in found:
            sale.id = next(ids)
        priced.extend(found)
        moves.extend(TierMove(who, *move) for move in member_moves)
        end_tiers.append(tier)
    for sale in plan.walk_ins:
        result = quotes.of(sale, None, None, False)
        priced.append(with_refund(Priced(next(ids), sale, result), None))
    return Recorded(priced, moves, end_tiers)


def walk_member(
    person: PlannedMember,
    member_id: int,
    rules: Any,
    quotes: Quotes,
    walk_start: dt.datetime,
    end: dt.datetime,
    coupons: Iterable[int],
) -> tuple[list[Priced], list[tuple], str | None]:
    from patron.whatif import replay

    history = replay.MemberHistory(member_id=member_id, start_tier=None)
    walk = replay._MemberWalk(history, rules, walk_start)
    moves: list[tuple] = []
    tiers = walk.tiers
    tiers.noted = moves  # the nights on which the review moved the member
    found: list[Priced] = []
    for index, sale in enumerate(person.sales):
        walk.before_sale(_as_record(sale, member_id), [])
        tier, first = tiers.code, index == 0
        priced = price_member_sale(quotes, sale, member_id, tier, first, coupons)
        record = _as_record(sale, member_id, priced)
        was = tiers.code
        walk.after_sale(record, priced.quote)
        if tiers.code != was:
            moves.append((sale.at, was, tiers.code, "upgrade"))
        found.append(priced)
    return found, moves, walk.finish(end, [])


def price_member_sale(quotes, sale, member_id, tier, first, coupons) -> Priced:
    from patron.engine import pricing

    if sale.coupon:
        code = f"D{next(iter(coupons)):07d}X"
        valid_from, valid_until = sale.at - dt.timedelta(days=10), sale.at + dt.timedelta(days=20)
        promotion = quotes.rules.templates["dish50"]
        coupon = pricing.Coupon(
            code=code,
            promotion=replace(promotion, code=code, kind="coupon"),
            member_id=str(member_id),
            valid_from=valid_from,
            valid_until=valid_until,
        )
        result = quotes.price(sale, member_id, tier, first, (code,), {code: coupon})
        if any(applied.kind == "coupon" for applied in result.applied):
            return with_refund(
                Priced(0, sale, result, (code,), (code, valid_from, valid_until)), result
            )
    if sale.welcome:
        result = quotes.price(sale, member_id, tier, first, ("WELCOME20",), {})
        return with_refund(Priced(0, sale, result, ("WELCOME20",)), result)
    result = quotes.of(sale, member_id, tier, first)
    return with_refund(Priced(0, sale, result), result)


def with_refund(priced: Priced, result: Any) -> Priced:
    result = result or priced.quote
    if priced.sale.refund is not None:
        when, in_full = priced.sale.refund
        amount = result.total if in_full else result.total // 2
        points = result.points_earned if in_full else result.points_earned // 2
        priced.refund = (when, amount, points, in_full)
    return priced


def _as_record(sale: PlannedSale, member_id: int, priced: Priced | None = None):
    from patron.whatif import replay

    refunds = ()
    if priced is not None and priced.refund is not None:
        when, amount, points, in_full = priced.refund
        refunds = (replay.Refunded(when, amount, points, in_full),)
    return replay.SaleRecord(
        id=priced.id if priced else 0,
        member_id=member_id,
        store=sale.store,
        at=sale.at,
        lines=sale.lines,
        imported=sale.imported,
        refunds=refunds,
    )


# --- writing it ------------------------------------------------------------------------------


def write(model: Any, rows: Iterable[dict[str, Any]]) -> None:
    """Rows of `model` (dicts by attribute name; the rest take their defaults): COPY on
    PostgreSQL, a multi-row INSERT elsewhere. Explicit ids move the id sequence on."""
    from django.core.management.color import no_style
    from django.db import connection

    fields = list(model._meta.concrete_fields)
    now = dt.datetime.now(dt.UTC)
    rows = iter(rows)
    head = next(rows, None)
    if head is None:
        return
    given = set(head)
    rows = itertools.chain([head], rows)
    columns = [f for f in fields if f.attname in given or not f.primary_key]
    defaults = {}
    for f in columns:
        if f.attname not in given:
            auto = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
            defaults[f.attname] = now if auto else f.get_default()
    names = ", ".join(f'"{f.column}"' for f in columns)
    table = model._meta.db_table
    if connection.vendor == "postgresql":
        _copy(connection, table, names, columns, rows, defaults)
    else:
        values = [
            [
                f.get_db_prep_save(row.get(f.attname, defaults.get(f.attname)), connection)
                for f in columns
            ]
            for row in rows
        ]
        marks = ", ".join(["%s"] * len(columns))
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", values)
    if "id" in given:
        with connection.cursor() as cursor:
            for statement in connection.ops.sequence_reset_sql(no_style(), [model]):
                cursor.execute(statement)


def _copy(connection, table, names, columns, rows, defaults) -> None:
    from django.db.models import JSONField

    json_fields = {f.attname for f in columns if isinstance(f, JSONField)}
    attnames = [f.attname for f in columns]
    constant = {name: _text(value, name in json_fields) for name, value in defaults.items()}
    connection.ensure_connection()
    with (
        connection.connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({names}) FROM STDIN") as out,
    ):
        chunk: list[str] = []
        for row in rows:
            chunk.append(
                "\t".join(
                    _text(row[name], name in json_fields) if name in row else constant[name]
                    for name in attnames
                )
            )
            if len(chunk) == 20_000:
                out.write("\n".join(chunk) + "\n")
                chunk = []
        if chunk:
            out.write("\n".join(chunk) + "\n")


def _text(value: Any, as_json: bool = False) -> str:
    """A value in COPY's text format."""
    if value is None:
        return "\\N"
    if as_json:
        value = json.dumps(value, ensure_ascii=False)
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    return text


def set_up_merchant():
    from patron.program.services import apply_program
    from patron.tenancy.actor import Actor
    from patron.tenancy.services import create_merchant

    merchant = create_merchant(MERCHANT, "Bench 餐旅连锁")
    apply_program(Actor.system(merchant), copy.deepcopy(PROGRAM))
    return merchant


def build(sales: int, members: int, today: dt.date, *, say: Callable[[str], None] = print) -> dict:
    """The merchant, its members and sales (see the module docstring); what was built."""
    from django.db import transaction

    from patron.members.models import Member
    from patron.promotions.models import Coupon, CouponTemplate, Tier, TierChange
    from patron.sales.models import Refund, Sale, SaleDiscount, SaleLine
    from patron.tenancy.models import Store
    from patron.whatif import rules as program_rules

    begun = time.perf_counter()
    merchant = set_up_merchant()
    rules = program_rules.current_rules(merchant)
    stores = dict(Store.objects.filter(merchant=merchant).values_list("code", "pk"))
    tiers = dict(Tier.objects.filter(merchant=merchant).values_list("code", "pk"))
    template = CouponTemplate.objects.get(merchant=merchant, code="dish50").pk
    plan = make_plan(sales, members, today)
    say(f"  planned {plan.sales:,} sales of {members:,} members   {_since(begun)}")
    first_member = 1 + (Member.objects.order_by("-pk").values_list("pk", flat=True).first() or 0)
    member_ids = [first_member + n for n in range(members)]
    recorded = record_sales(plan, rules, member_ids)
    say(f"  priced them (the engine, members walked through time)   {_since(begun)}")
    with transaction.atomic():
        write(
            Member,
            (
                {
                    "id": member_ids[n],
                    "merchant_id": merchant.pk,
                    "card_no": f"W{n:09d}",
                    "mobile": f"139{n:08d}",
                    "name": f"会员{n}",
                    "referral_code": f"WR{n:08d}",
                    "store_id": stores[person.store],
                    "tier_id": tiers.get(recorded.end_tiers[n]),
                    "joined_at": person.joined_at,
                    "status": "active",
                }
                for n, person in enumerate(plan.members)
            ),
        )
        write(
            TierChange,
            (
                {
                    "merchant_id": merchant.pk,
                    "member_id": member_ids[move.member],
                    "from_tier_id": tiers.get(move.from_code),
                    "to_tier_id": tiers.get(move.to_code),
                    "reason": move.reason,
                    "created_at": move.at,
                }
                for move in recorded.moves
            ),
        )
        write(Sale, (_sale_row(merchant.pk, stores, member_ids, p) for p in recorded.sales))
        say(f"  sales written   {_since(begun)}")
        write(SaleLine, _line_rows(merchant.pk, stores, recorded.sales))
        say(f"  lines written   {_since(begun)}")
        with_coupons = [p for p in recorded.sales if p.coupon is not None]
        coupon_ids = {}
        for n, p in enumerate(with_coupons, start=1):
            coupon_ids[p.id] = n
        write(
            Coupon,
            (
                {
                    "id": coupon_ids[p.id],
                    "merchant_id": merchant.pk,
                    "template_id": template,
                    "member_id": member_ids[p.sale.member],
                    "code": p.coupon[0],
                    "status": "used",
                    "issued_at": p.coupon[1],
                    "valid_from": p.coupon[1],
                    "valid_until": p.coupon[2],
                    "used_at": p.sale.at,
                    "used_in": f"sale {p.id}",
                }
                for p in with_coupons
            ),
        )
        write(
            SaleDiscount,
            (
                {
                    "sale_id": p.id,
                    "code": p.coupon[0],
                    "kind": "coupon",
                    "name": "餐饮满 200 减 50",
                    "benefit": "fixed",
                    "amount": sum(a.amount for a in p.quote.applied if a.kind == "coupon"),
                    "coupon_id": coupon_ids[p.id],
                }
                for p in with_coupons
            ),
        )
        write(
            Refund,
            (
                {
                    "merchant_id": merchant.pk,
                    "sale_id": p.id,
                    "idempotency_key": f"wb-refund-{p.id}",
                    "channel": "till",
                    "store_id": stores[p.sale.store],
                    "created_at": p.refund[0],
                    "amount": p.refund[1],
                    "cash_refunded": p.refund[1],
                    "points_reversed": p.refund[2],
                }
                for p in recorded.sales
                if p.refund is not None
            ),
        )
    analyse()
    say(f"  built   {_since(begun)}")
    in_range = sum(1 for p in recorded.sales if p.sale.in_range)
    return {
        "sales": sales,
        "members": members,
        "in_range": in_range,
        "before_range": len(recorded.sales) - in_range,
        "lines": sum(len(p.sale.lines) for p in recorded.sales),
        "tier_changes": len(recorded.moves),
        "today": today.isoformat(),
        "seconds": round(time.perf_counter() - begun, 1),
    }


def _sale_row(
    merchant_id: int, stores: dict[str, int], member_ids: Sequence[int], p: Priced
) -> dict[str, Any]:
    quote, sale = p.quote, p.sale
    status = "completed"
    if p.refund is not None:
        status = "refunded" if p.refund[3] else "partly_refunded"
    return {
        "id": p.id,
        "merchant_id": merchant_id,
        "member_id": None if sale.member is None else member_ids[sale.member],
        "store_id": stores[sale.store],
        "channel": "import" if sale.imported else "till",
        "idempotency_key": f"wb-{p.id}",
        "occurred_at": sale.at,
        "created_at": sale.at,
        "status": status,
        "subtotal": quote.subtotal,
        "member_discount": quote.member_discount,
        "discount": quote.discount,
        "points_redeemed": quote.points_redeemed,
        "points_value": quote.points_value,
        "total": quote.total,
        "stored_value_paid": quote.stored_value_paid,
        "cash_due": quote.cash_due,
        "points_earned": quote.points_earned,
        "saved": quote.saved,
        "codes": list(p.codes),
    }


def _line_rows(merchant_id, stores, priced: list[Priced]):
    for p in priced:
        store, at = stores[p.sale.store], p.sale.at
        for position, line in enumerate(p.quote.lines):
            yield {
                "sale_id": p.id,
                "merchant_id": merchant_id,
                "position": position,
                "sku": line.sku,
                "category": line.category,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "member_price": line.member_price,
                "discount": line.discount,
                "points_offset": line.points_offset,
                "total": line.total,
                "points_earned": line.points_earned,
                "gift": line.gift,
                "store_id": store,
                "occurred_at": at,
            }


def analyse() -> None:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _since(begun: float) -> str:
    return f"{time.perf_counter() - begun:7.1f} s"


# --- measuring -------------------------------------------------------------------------------


def draft_document(actor: Any) -> dict[str, Any]:
    """The current program with gold's rooms at 8.8折 instead of 8折."""
    from patron.program.services import export_program

    document = export_program(actor)
    for tier in document["tiers"]:
        if tier["code"] == "gold":
            tier["discount"] = {**tier.get("discount", {}), "rooms": 88}
    return document


class Phases:
    """Wall time of `simulate`'s phases, by wrapping the functions it calls."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.found: Any = None
        self.undo: list[Callable[[], None]] = []

    def wrap(self, owner: Any, name: str, phase: str, keep: bool = False) -> None:
        original = getattr(owner, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            begun = time.perf_counter()
            try:
                result = original(*args, **kwargs)
            finally:
                self.seconds[phase] += time.perf_counter() - begun
            if keep:
                self.found = result
            return result

        setattr(owner, name, timed)
        self.undo.append(lambda: setattr(owner, name, original))

    def __enter__(self) -> Phases:
        from patron.whatif import services

        self.wrap(services.program_rules, "draft_rules", "rules")
        self.wrap(services.program_rules, "current_rules", "rules")
        self.wrap(services.history_reads, "read", "history read", keep=True)
        self.wrap(services, "_walk", "walk")
        return self

    def __exit__(self, *exc: object) -> None:
        for undo in reversed(self.undo):
            undo()


def simulate(workers: int | None) -> tuple[Any, Phases, float]:
    from patron.tenancy.actor import Actor
    from patron.tenancy.models import Merchant
    from patron.whatif import services

    actor = Actor.system(Merchant.objects.get(slug=MERCHANT))
    first, last = the_range(dt.date.today())
    asked = services.question(actor, first, last)
    document = draft_document(actor)
    with Phases() as phases:
        begun = time.perf_counter()
        result = services.simulate(actor, document, asked, workers=workers)
        total = time.perf_counter() - begun
    return result, phases, total


def bare_inputs(found: Any) -> list[tuple]:
    """(basket, member context, moment) of every replayed sale, at the member's starting tier
    (walk-ins without one): what `pricing.quote` alone would be asked."""
    from patron.engine import pricing

    inputs = []
    for history in found.members:
        for sale in history.sales:
            context = pricing.MemberContext(
                member_id=str(history.member_id),
                tier=history.start_tier,
                points_available=sale.points_to_redeem,
                first_purchase=sale.first_purchase,
            )
            basket = pricing.Basket(
                sale.store, sale.lines, codes=sale.codes, points_to_redeem=sale.points_to_redeem
            )
            inputs.append((basket, context, sale.at))
    for sale in found.walk_ins:
        inputs.append((pricing.Basket(sale.store, sale.lines), pricing.MemberContext(), sale.at))
    return inputs


_bare: tuple | None = None  # (inputs, program, share count), set before the fork


def _quote_share(index: int) -> int:
    from patron.engine import pricing

    assert _bare is not None
    inputs, program, count = _bare
    for basket, context, at in inputs[index::count]:
        pricing.quote(basket, context, program, at)
    return len(inputs[index::count])


def bare_quotes(found: Any, processes: int) -> float:
    """Seconds to quote every replayed sale once, in `processes` processes (forked)."""
    from patron.tenancy.models import Merchant
    from patron.whatif import rules as program_rules

    global _bare
    program = program_rules.current_rules(Merchant.objects.get(slug=MERCHANT)).program
    _bare = (bare_inputs(found), program, processes)
    try:
        begun = time.perf_counter()
        if processes == 1:
            _quote_share(0)
        else:
            with multiprocessing.get_context("fork").Pool(processes) as pool:
                pool.map(_quote_share, range(processes))
        return time.perf_counter() - begun
    finally:
        _bare = None


def _spin(_: int) -> float:
    """A fixed piece of pure-Python work; the CPU seconds it took."""
    begun = time.process_time()
    total = 0
    for n in range(10_000_000):
        total += n
    return time.process_time() - begun


def parallel_room(processes: int) -> tuple[float, float]:
    """Wall seconds of one `_spin`, and of `processes` of them in forked processes at once:
    on a machine shared with other work the second is well above the first (fewer free cores
    than it has), and every parallel figure above is read against it."""
    begun = time.perf_counter()
    _spin(0)
    one = time.perf_counter() - begun
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        begun = time.perf_counter()
        pool.map(_spin, range(processes))
        many = time.perf_counter() - begun
    return one, many


def peak_rss_mb() -> tuple[int, int]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    return own, children


def report(result: Any, phases: Phases, total: float, workers: int) -> None:
    from patron.engine import ENGINE
    from patron.whatif import replay

    walk = "compiled" if not replay.__file__.endswith(".py") else "source"
    sales = result.sales
    print(f"engine {ENGINE}, walk {walk}; {workers} worker process(es); load {load_average()}")
    print(f"{'phase':<28} {'seconds':>9}")
    for phase in ("rules", "history read", "walk"):
        print(f"{phase:<28} {phases.seconds.get(phase, 0.0):9.2f}")
    other = total - sum(phases.seconds.values())
    print(f"{'other (figures, names)':<28} {other:9.2f}")
    print(f"{'total':<28} {total:9.2f}")
    print(f"sales replayed               {sales:,} ({sales / total:,.0f} sales/s end to end;")
    walk = phases.seconds.get("walk", 0.0)
    if walk:
        print(f"                             {sales / walk:,.0f} sales/s in the walk, 2 programs)")
    own, children = peak_rss_mb()
    print(f"peak RSS                     {own:,} MB (this process), {children:,} MB (a worker)")
    print(f"faithful: {result.faithful_line()}")
    print(f"imported (not compared)      {result.imported:,}")
    diff = result.as_dict()["diff"]
    print(
        f"draft - current: revenue {diff['revenue']:,} fen, member discount "
        f"{diff['member_discount']:,} fen, tiers {diff['by_tier']}"
    )


def load_average() -> str:
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def configure(url: str) -> None:
    os.environ["PATRON_DATABASE_URL"] = url
    os.environ.setdefault("PATRON_DATA_DIR", str(ROOT / "var" / "bench-whatif"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "patron.settings"
    import django

    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sales", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=150_000)
    parser.add_argument("--workers", type=int, default=None, help="default: simulate's own")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432/")
    parser.add_argument("--database", default="patron_bench_whatif")
    parser.add_argument("--reuse", action="store_true", help="keep the database, use it again")
    args = parser.parse_args()
    import scale  # bench/scale.py: the kept database's comment, emptying, dropping

    wanted = {"sales": args.sales, "members": args.members}
    kept = (
        scale.built_with(args.pg, args.database) if scale.exists(args.pg, args.database) else None
    )
    url = args.pg.rstrip("/") + "/" + args.database
    reuse = args.reuse and kept is not None and all(kept.get(k) == v for k, v in wanted.items())
    if reuse and kept.get("today") != dt.date.today().isoformat():
        print(f"the kept database was built on {kept.get('today')}: building it again")
        reuse = False
    if reuse:
        print(f"reusing {args.database}: {kept}")
        configure(url)
    else:
        scale.recreate(args.pg, args.database)
        configure(url)
        from django.core.management import call_command

        print(f"building {args.database}: {args.sales:,} sales, {args.members:,} members")
        call_command("migrate", verbosity=0)
        built = build(args.sales, args.members, dt.date.today())
        print(f"built: {built}")
        scale.remember_build(args.pg, args.database, built)
    from patron.whatif import services

    workers = services.worker_count(args.sales, args.workers)
    result, phases, total = simulate(args.workers)
    print()
    report(result, phases, total, workers)
    found = phases.found
    print()
    one = bare_quotes(found, 1)
    many = bare_quotes(found, workers) if workers > 1 else one
    count = found.sales
    print(f"bare pricing.quote of the same {count:,} baskets (once each, as recorded):")
    print(f"  1 process                  {one:9.2f} s  {count / one:,.0f} quotes/s")
    print(f"  {workers} processes                {many:9.2f} s  {count / many:,.0f} quotes/s")
    walk = phases.seconds.get("walk", 0.0)
    print(
        f"replay / bare ({workers} processes): walk {walk / many:.2f}x, "
        f"end to end {total / many:.2f}x (the replay quotes each sale twice)"
    )
    one, many = parallel_room(workers)
    print(
        f"free cores now: the same pure-Python work takes {one:.2f} s in 1 process and "
        f"{many:.2f} s in each of {workers} at once ({workers * one / many:.1f} cores' worth)"
    )
    if not args.reuse:
        scale.drop(args.pg, args.database)


if __name__ == "__main__":
    main()
