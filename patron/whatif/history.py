"""What the replay walks: the range's sales as they were recorded, each member's tier figures
before and around them, and the tiers set by other means (docs/whatif.md).

Reads only, in large batches: rows come back as tuples (`values_list`, `iterator`) and become
the replay's plain values (`replay.SaleRecord`, `replay.Fact`, ...), grouped by member.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.aggregates import StringAgg
from django.db import connection
from django.db.models import Case, DateTimeField, F, Min, Q, Sum, TextField, Value, When
from django.db.models.functions import Cast, Coalesce, Concat

from patron.cards import tiers as card_tiers
from patron.cards.models import Membership
from patron.core import bulk
from patron.engine import pricing
from patron.ledger.models import Asset, Entry, Transaction
from patron.members.models import Member, MemberStatus
from patron.promotions.models import LimitTake, TierChange
from patron.sales.models import Refund, Sale, SaleDiscount, SaleLine
from patron.tenancy.models import Merchant, Store
from patron.whatif import replay

BATCH = 20_000
NO_CODES = ("[]", "null")  # a sale's codes, as JSON text, when it has none
IMPORTED = card_tiers.IMPORTED_CHANNEL  # history brought in by `patron import sales`
# Tier changes the replay re-derives from each program's rules; any other is set as recorded.
RULE_REASONS = (TierChange.Reason.UPGRADE, TierChange.Reason.DOWNGRADE)


@dataclass
class History:
    members: list[replay.MemberHistory]
    walk_ins: list[replay.SaleRecord]
    sales: int
    imported: int  # of them, history brought in by `patron import sales`
    points_outstanding: int  # every member's points at the end of the range, as recorded
    usage: replay.Usage = field(default_factory=lambda: replay.Usage())
    # Members with no figure, sale or set: how many start on each tier (they move alike).
    idle: dict[str | None, int] = field(default_factory=dict)


@contextmanager
def without_cyclic_gc() -> Iterator[None]:
    """The cyclic garbage collector off while millions of small objects are made (none of them
    in cycles: reference counting frees them): each of its full passes walks every object
    alive, and a replay's history is most of them, so it would spend more time than the work.
    Back as it was afterwards."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def read(
    merchant: Merchant,
    start: dt.datetime,
    end: dt.datetime,
    store: Store | None,
    grace_days: int = 0,
) -> History:
    """Everything the replay of [start, end) needs (`store`: only its sales are replayed).
    `grace_days`: the longest grace period of the programs replayed; the figures reach back
    that far before the range, to find who is in a grace period when it starts."""
    with without_cyclic_gc():
        return _read(merchant, start, end, store, grace_days)


def _read(
    merchant: Merchant, start: dt.datetime, end: dt.datetime, store: Store | None, grace_days: int
) -> History:
    in_range = _in_range(merchant, start, end, store)
    found = _sales(
        in_range,
        _lines(in_range),
        _coupons(in_range),
        _refunds(in_range, end),
        _first_sales(merchant),
        dict(Store.objects.filter(merchant=merchant).values_list("pk", "code")),
    )
    for member_sales in found.records.values():
        member_sales.sort(key=_by_clock)
    reviews_from = start - dt.timedelta(days=grace_days + 1)  # the nights that set the grace
    window = card_tiers.window(merchant, reviews_from)
    members = _members(merchant, in_range, window, reviews_from, found.records, found.earn_ids)
    return History(
        members=members.moving,
        walk_ins=found.records.get(None, []),
        sales=len(found.ids),
        imported=found.imported,
        points_outstanding=_points_at(merchant, end),
        idle=members.idle,
        usage=_usage_before(merchant, start),
    )


def _usage_before(merchant: Merchant, start: dt.datetime) -> replay.Usage:
    """What sales before the range took from limited promotions (less what refunds gave
    back): the replay counts on from there."""
    usage = replay.Usage()
    before = Sale.objects.filter(merchant=merchant, occurred_at__lt=start).values("pk")
    rows = LimitTake.objects.filter(merchant=merchant, sale_id__in=before).values_list(
        "promotion__code", "member_id", "period", "units", "returned"
    )
    for code, member_id, period, units, returned in bulk.read_rows(rows):
        usage.count(code, member_id, dt.date.fromisoformat(period), units - returned)
    return usage


# --- the sales replayed ----------------------------------------------------------------------


@dataclass
class _Sales:
    """The range's sales as the replay takes them, by member (None: walk-ins), in time order."""

    records: dict[int | None, list[replay.SaleRecord]] = field(
        default_factory=lambda: defaultdict(list)
    )
    ids: set[int] = field(default_factory=set)
    earn_ids: set[int] = field(default_factory=set)  # their points' ledger transactions
    imported: int = 0


def _by_clock(record: replay.SaleRecord) -> tuple[dt.datetime, int]:
    return record.clock, record.id


def _in_range(
    merchant: Merchant, start: dt.datetime, end: dt.datetime, store: Store | None
) -> dict[str, Any]:
    """The filter of the sales replayed, as field lookups on Sale (prefix them with `sale__`
    to filter their lines, discounts and refunds by the same sales in one query)."""
    found: dict[str, Any] = {
        "merchant": merchant,
        "occurred_at__gte": start,
        "occurred_at__lt": end,
    }
    if store is not None:
        found["store"] = store
    return found


def _on_sale(in_range: dict[str, Any]) -> dict[str, Any]:
    return {f"sale__{lookup}": value for lookup, value in in_range.items()}


def _sales(
    in_range: dict[str, Any],
    lines: dict[int, tuple[pricing.Line, ...]],
    coupons: dict[int, dict[str, replay.CouponUse]],
    refunds: dict[int, list[tuple]],
    firsts: dict[int, dt.datetime],
    stores: dict[int, str],
) -> _Sales:
    """The range's sales as records. Codes come as the database's JSON text, parsed only when
    the sale has any (most have none)."""
    rows = (
        Sale.objects.filter(**in_range)
        .order_by()  # the walk puts them in the till's order
        .annotate(codes_text=Cast("codes", output_field=TextField()))
        .values_list(
            "id",
            "member_id",
            "store_id",
            "occurred_at",
            "channel",
            "codes_text",
            "status",
            "subtotal",
            "member_discount",
            "discount",
            "points_redeemed",
            "points_value",
            "total",
            "points_earned",
            "stored_value_paid",
            "points_earn_id",
            "created_at",
        )
    )
    found = _Sales()
    records, ids, earn_ids = found.records, found.ids, found.earn_ids
    for row in bulk.read_rows(rows):
        sale_id, member_id, store_id, at, channel, codes_text, status = row[:7]
        codes = json.loads(codes_text) if codes_text and codes_text not in NO_CODES else []
        recorded = replay.Recorded(*row[7:14])
        imported = channel == IMPORTED
        records[member_id].append(
            replay.SaleRecord(
                id=sale_id,
                member_id=member_id,
                store=stores[store_id],
                at=at,
                lines=lines.get(sale_id, ()),
                codes=tuple(code for code in codes if isinstance(code, str)) if codes else (),
                coupons=_given_coupons(codes, coupons[sale_id]) if sale_id in coupons else {},
                points_to_redeem=recorded.points_redeemed,
                stored_value=row[14],
                first_purchase=member_id is not None
                and firsts.get(member_id) == (at if imported else row[16]),
                imported=imported,
                recorded=recorded,
                refunds=_refunded(refunds[sale_id], status) if sale_id in refunds else (),
                taken_at=None if imported else row[16],
            )
        )
        ids.add(sale_id)
        found.imported += imported
        if row[15] is not None:
            earn_ids.add(row[15])
    return found


def _given_price() -> Case:
    return Case(When(member_price__lt=F("unit_price"), then=F("member_price")), default=None)


# A basket as one text on PostgreSQL: its lines' fields joined by FIELD, the lines by LINE.
# Both are whitespace to SKU_SHAPE and CATEGORY_SHAPE, so no SKU or category holds them.
FIELD, LINE = "\x1f", "\x1e"


def _lines(in_range: dict[str, Any]) -> dict[int, tuple[pricing.Line, ...]]:
    """The lines as asked for: the engine's gift lines are left out, and a member price below
    the unit price is kept as the line's member price (the replay decides whether it was the
    till's own or the tier's: replay._given). Equal lines are one Line object, and equal
    baskets one tuple: a year of sales holds far fewer of either than sales."""
    if connection.vendor == "postgresql":
        found = _lines_as_texts(in_range)
        if found is not None:
            return found
    return _lines_by_row(in_range)


def _lines_as_texts(in_range: dict[str, Any]) -> dict[int, tuple[pricing.Line, ...]] | None:
    """Each sale's basket as one text aggregated by the database: a basket seen before is one
    dictionary lookup (a year of a million sales holds about 370,000 baskets), and half the
    rows come over. None if a line's text does not split as written."""
    field = Value(FIELD, output_field=TextField())
    line = Concat(
        Cast("sku", TextField()),
        field,
        Cast("category", TextField()),
        field,
        Cast("quantity", TextField()),
        field,
        Cast("unit_price", TextField()),
        field,
        Coalesce(Cast(_given_price(), TextField()), Value("", output_field=TextField())),
        output_field=TextField(),
    )
    rows = (
        SaleLine.objects.filter(gift=False, **_on_sale(in_range))
        .order_by()
        .values("sale_id")
        .annotate(basket=StringAgg(line, delimiter=LINE, order_by=("position",)))
        .values_list("sale_id", "basket")
    )
    found: dict[int, tuple[pricing.Line, ...]] = {}
    known_lines: dict[tuple, pricing.Line] = {}
    known_baskets: dict[str, tuple[pricing.Line, ...]] = {}
    for sale_id, text in bulk.read_rows(rows):
        basket = known_baskets.get(text)
        if basket is None:
            lines = []
            for part in text.split(LINE):
                fields = part.split(FIELD)
                if len(fields) != 5:
                    return None
                sku, category, quantity, unit_price, given = fields
                key = (sku, category, int(quantity), int(unit_price), int(given) if given else None)
                if key not in known_lines:
                    known_lines[key] = pricing.Line(*key)
                lines.append(known_lines[key])
            basket = known_baskets[text] = tuple(lines)
        found[sale_id] = basket
    return found


def _lines_by_row(in_range: dict[str, Any]) -> dict[int, tuple[pricing.Line, ...]]:
    found: dict[int, tuple[pricing.Line, ...]] = {}
    known_lines: dict[tuple, pricing.Line] = {}
    known_baskets: dict[tuple, tuple[pricing.Line, ...]] = {}
    rows = (
        SaleLine.objects.filter(gift=False, **_on_sale(in_range))
        .order_by("sale_id", "position")
        .annotate(given_price=_given_price())
        .values_list("sale_id", "sku", "category", "quantity", "unit_price", "given_price")
    )
    current: int | None = None
    keys: list[tuple] = []

    def basket() -> tuple[pricing.Line, ...]:
        key = tuple(keys)
        lines = known_baskets.get(key)
        if lines is None:
            lines = known_baskets[key] = tuple(known_lines[line] for line in keys)
        return lines

    for row in bulk.read_rows(rows):
        sale_id = row[0]
        if sale_id != current:
            if current is not None:
                found[current] = basket()
            current, keys = sale_id, []
        key = row[1:]  # sku, category, quantity, unit price, the member price below it
        if key not in known_lines:
            known_lines[key] = pricing.Line(*key)
        keys.append(key)
    if current is not None:
        found[current] = basket()
    return found


def _coupons(in_range: dict[str, Any]) -> dict[int, dict[str, replay.CouponUse]]:
    found: dict[int, dict[str, replay.CouponUse]] = defaultdict(dict)
    rows = SaleDiscount.objects.filter(coupon__isnull=False, **_on_sale(in_range)).values_list(
        "sale_id",
        "coupon__code",
        "coupon__template__code",
        "coupon__member_id",
        "coupon__valid_from",
        "coupon__valid_until",
    )
    for sale_id, code, template, member_id, valid_from, valid_until in bulk.read_rows(rows):
        found[sale_id][code] = replay.CouponUse(template, member_id, valid_from, valid_until)
    return found


def _refunds(in_range: dict[str, Any], end: dt.datetime) -> dict[int, list[tuple]]:
    """Refunds made up to the end of the range, by sale, in order."""
    found: dict[int, list[tuple]] = defaultdict(list)
    rows = (
        Refund.objects.filter(created_at__lt=end, **_on_sale(in_range))
        .order_by("created_at", "id")
        .values_list("sale_id", "created_at", "amount", "points_reversed")
    )
    for sale_id, created_at, amount, points_reversed in bulk.read_rows(rows):
        found[sale_id].append((created_at, amount, points_reversed))
    return found


def _first_sales(merchant: Merchant) -> dict[int, dt.datetime]:
    """When each member's first sale was taken (imported history: when it happened); the
    till prices a sale as a first purchase when the member has no visit yet."""
    taken = Case(
        When(channel=IMPORTED, then=F("occurred_at")),
        default=F("created_at"),
        output_field=DateTimeField(),
    )
    rows = (
        Sale.objects.filter(merchant=merchant, member__isnull=False)
        .values("member_id")
        .annotate(first=Min(taken))
        .values_list("member_id", "first")
    )
    return dict(bulk.read_rows(rows))


def _given_coupons(codes: list, found: dict[str, replay.CouponUse]) -> dict[str, replay.CouponUse]:
    """The coupons keyed by the code as the till typed it (the engine matches on that)."""
    given = {}
    for code in codes:
        if isinstance(code, str):
            use = found.get(pricing.normalize_code(code))
            if use is not None:
                given[code] = use
    return given


def _refunded(rows: Iterable[tuple], status: str) -> tuple[replay.Refunded, ...]:
    rows = list(rows)
    last = len(rows) - 1
    return tuple(
        replay.Refunded(
            at=created_at,
            amount=amount,
            points_reversed=points_reversed,
            in_full=index == last and status == Sale.Status.REFUNDED,
        )
        for index, (created_at, amount, points_reversed) in enumerate(rows)
    )


# --- the members: start tiers, figures around the range, tiers set otherwise -----------------


@dataclass
class _Members:
    moving: list[replay.MemberHistory]
    idle: dict[str | None, int]


def _members(
    merchant: Merchant,
    in_range: dict[str, Any],
    window: dt.datetime,
    reviews_from: dt.datetime,
    records: dict[int | None, list[replay.SaleRecord]],
    earn_ids: set[int],
) -> _Members:
    """Every member not closed: those the replay must walk (a sale, a figure, a tier set, a
    tier above the lowest), and how many of the rest sit on each tier (nothing moves them)."""
    start, end = in_range["occurred_at__gte"], in_range["occurred_at__lt"]
    start_tiers = _start_tiers(merchant, start)
    facts = _facts(merchant, window, in_range, earn_ids)
    sets = _sets(merchant, start, end)
    floors = _floors(merchant, reviews_from, end)
    before = _lifetime_before(merchant, window)
    moving: list[replay.MemberHistory] = []
    idle: dict[str | None, int] = defaultdict(int)
    members = Member.objects.filter(merchant=merchant).exclude(status=MemberStatus.CLOSED)
    for member_id, tier_code in bulk.read_rows(members.values_list("pk", "tier__code")):
        tier, since = start_tiers.get(member_id, (tier_code, None))
        sales = records.get(member_id)
        history_facts = facts.get(member_id)
        member_sets = sets.get(member_id, []) + topups_in(history_facts or [], start)
        member_floors = floors.get(member_id)
        spend_before, points_before = before.get(member_id, (0, 0))
        # A tier set in the nights before the range bounds the grace period it may be in.
        recently = since is not None and since >= reviews_from
        moved = sales or history_facts or member_sets or member_floors or recently
        if not (moved or spend_before or points_before):
            idle[tier] += 1  # members alike: the replay walks one for all of them
            continue
        moving.append(
            replay.MemberHistory(
                member_id=member_id,
                start_tier=tier,
                tier_since=since,
                spend_before=spend_before,
                points_before=points_before,
                facts=sorted(history_facts or [], key=lambda fact: fact.at),
                sets=sorted(member_sets or [], key=lambda change: change.at),
                floors=member_floors or [],
                sales=sales or [],
            )
        )
    return _Members(moving, dict(idle))


def _start_tiers(
    merchant: Merchant, start: dt.datetime
) -> dict[int, tuple[str | None, dt.datetime | None]]:
    """The tier each member held when the range starts and since when, from the tier history:
    the last change before it, else (changes only after it) the first change's starting tier,
    held since before anything recorded. Members without changes hold the tier they have now."""
    found: dict[int, tuple[str | None, dt.datetime | None]] = {}
    rows = (
        TierChange.objects.filter(merchant=merchant)
        .order_by("member_id", "created_at", "id")
        .values_list("member_id", "created_at", "from_tier__code", "to_tier__code")
    )
    for member_id, created_at, from_code, to_code in bulk.read_rows(rows):
        if created_at < start:
            found[member_id] = (to_code, created_at)
        elif member_id not in found:
            found[member_id] = (from_code, None)
    return found


def _sets(merchant: Merchant, start: dt.datetime, end: dt.datetime) -> dict[int, list]:
    """Tiers set in the range by anything but the rules (by hand, a paid membership, a card
    product, a first deposit, an import): set at their moment in both replays."""
    found: dict[int, list[replay.TierSet]] = defaultdict(list)
    rows = (
        TierChange.objects.filter(merchant=merchant, created_at__gte=start, created_at__lt=end)
        .exclude(reason__in=RULE_REASONS)
        .values_list("member_id", "created_at", "to_tier__code")
    )
    for member_id, created_at, code in bulk.read_rows(rows):
        found[member_id].append(replay.TierSet(at=created_at, code=code))
    return found


def _floors(merchant: Merchant, start: dt.datetime, end: dt.datetime) -> dict[int, list]:
    """Paid memberships that cover part of the range: the review never goes below them."""
    found: dict[int, list[replay.TierSet]] = defaultdict(list)
    rows = Membership.objects.filter(
        merchant=merchant, valid_from__lt=end, valid_until__gt=start
    ).values_list("member_id", "valid_from", "valid_until", "tier_code")
    for member_id, valid_from, valid_until, code in bulk.read_rows(rows):
        found[member_id].append(
            replay.TierSet(at=valid_from, code=code, floor=True, until=valid_until)
        )
    return found


def _facts(
    merchant: Merchant,
    window: dt.datetime,
    in_range: dict[str, Any],
    earn_ids: set[int],
) -> dict[int, list[replay.Fact]]:
    """The recorded figures from the first window the range needs to its end, but what the
    replay prices itself: sales not replayed (other stores, before the range) with their
    refunds, points earned otherwise, top-ups (which also move tiers right after them)."""
    end = in_range["occurred_at__lt"]
    found: dict[int, list[replay.Fact]] = defaultdict(list)
    sales = (
        Sale.objects.filter(
            merchant=merchant, member__isnull=False, occurred_at__gte=window, occurred_at__lt=end
        )
        .exclude(channel=IMPORTED)
        .exclude(**in_range)  # the replayed ones are left to the database to skip
        .values_list("id", "member_id", "occurred_at", "created_at", "total", "status")
    )
    kept: dict[int, tuple[int, dt.datetime, str]] = {}
    for sale_id, member_id, occurred_at, taken_at, total, status in bulk.read_rows(sales):
        kept[sale_id] = (member_id, occurred_at, status)
        found[member_id].append(
            replay.Fact("spend", taken_at, total, window_at=occurred_at, sale_id=sale_id)
        )
    refunds = (
        Refund.objects.filter(
            sale__merchant=merchant, sale__occurred_at__gte=window, created_at__lt=end
        )
        .order_by("created_at", "id")
        .values_list("sale_id", "created_at", "amount")
    )
    last: dict[int, replay.Fact] = {}
    for sale_id, created_at, amount in bulk.read_rows(refunds):
        if sale_id not in kept:
            continue
        member_id, occurred_at, _status = kept[sale_id]
        fact = replay.Fact("spend", created_at, -amount, window_at=occurred_at, sale_id=sale_id)
        found[member_id].append(fact)
        last[sale_id] = fact
    for sale_id, fact in last.items():
        fact.in_full = kept[sale_id][2] == Sale.Status.REFUNDED
    entries = (
        Entry.objects.filter(
            transaction__merchant=merchant,
            member__isnull=False,
            occurred_at__gte=window,
            occurred_at__lt=end,
        )
        .filter(
            card_tiers.EARNED_POINTS
            | Q(asset=Asset.PRINCIPAL, transaction__kind=Transaction.Kind.TOPUP)
        )
        .values_list(
            "member_id",
            "occurred_at",
            "transaction__created_at",
            "amount",
            "asset",
            "transaction_id",
            "transaction__reverses_id",
        )
    )
    for (
        member_id,
        occurred_at,
        taken_at,
        amount,
        asset,
        transaction_id,
        reverses,
    ) in bulk.read_rows(entries):
        if asset == Asset.PRINCIPAL:
            fact = replay.Fact("topup", taken_at, amount, window_at=occurred_at)
        elif transaction_id not in earn_ids and reverses not in earn_ids:
            fact = replay.Fact("points", taken_at, amount, window_at=occurred_at)
        else:
            continue
        found[member_id].append(fact)
    return found


def topups_in(facts: list[replay.Fact], start: dt.datetime) -> list[replay.TierSet]:
    return [
        replay.TierSet(at=fact.at, code=None, activity=True)
        for fact in facts
        if fact.kind == "topup" and fact.at >= start
    ]


def _lifetime_before(merchant: Merchant, window: dt.datetime) -> dict[int, tuple[int, int]]:
    """Lifetime spend (net of refunds made before it) and points earned before `window`, as
    ints (PostgreSQL sums bigints as numeric)."""
    found: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    spend = (
        Sale.objects.filter(merchant=merchant, member__isnull=False, occurred_at__lt=window)
        .exclude(channel=IMPORTED)
        .values("member_id")
        .annotate(total=Sum("total"))
        .values_list("member_id", "total")
    )
    for member_id, total in bulk.read_rows(spend):
        found[member_id][0] += int(total or 0)
    back = (
        Refund.objects.filter(
            sale__merchant=merchant,
            sale__member__isnull=False,
            sale__occurred_at__lt=window,
            created_at__lt=window,
        )
        .exclude(sale__channel=IMPORTED)
        .values("sale__member_id")
        .annotate(total=Sum("amount"))
        .values_list("sale__member_id", "total")
    )
    for member_id, total in bulk.read_rows(back):
        found[member_id][0] -= int(total or 0)
    earned = (
        Entry.objects.filter(
            transaction__merchant=merchant,
            member__isnull=False,
            occurred_at__lt=window,
        )
        .filter(card_tiers.EARNED_POINTS)
        .values("member_id")
        .annotate(total=Sum("amount"))
        .values_list("member_id", "total")
    )
    for member_id, total in bulk.read_rows(earned):
        found[member_id][1] += int(total or 0)
    return {member_id: (pair[0], pair[1]) for member_id, pair in found.items()}


def _points_at(merchant: Merchant, end: dt.datetime) -> int:
    """Every member's points as the ledger holds them at the end of the range."""
    total = Entry.objects.filter(
        account__merchant=merchant,
        account__owner_type="member",
        asset=Asset.POINTS,
        occurred_at__lt=end,
    ).aggregate(total=Sum("amount"))["total"]
    return int(total or 0)
