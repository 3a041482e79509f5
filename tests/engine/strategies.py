"""Hypothesis strategies for random sales: baskets, tiers, promotions of every benefit type and
condition, coupons, points rules, and a `now` in any UTC offset.

Every strategy is built once at import: Hypothesis spends most of a complex example's time
building and validating strategy objects, so none is created per draw, and time windows are
drawn as offsets from one reference instant instead of from the drawn `now`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from hypothesis import strategies as st

from patron.engine.points import EarnRule
from patron.engine.pricing import (
    BENEFIT_TYPES,
    Basket,
    Benefit,
    Condition,
    Coupon,
    Line,
    MemberContext,
    Program,
    Promotion,
    RedeemRule,
    Tier,
)

# Each SKU keeps one category, as a POS catalogue would.
CATALOGUE = {
    "ROOM-STD": "rooms",
    "ROOM-KING": "rooms",
    "DISH": "dishes",
    "SOUP": "dishes",
    "TEA": "drinks",
    "SHIP": "shipping",
}
SKUS = sorted(CATALOGUE)
CATEGORIES = sorted(set(CATALOGUE.values()))
STORES = ("S1", "S2")
TIER_CODES = ("normal", "silver", "gold")
ZONES = ("Asia/Shanghai", "UTC", "America/Los_Angeles")
# `now` and every window edge sit on the same grid of hours around one Tuesday, so edges
# equal to `now` (inclusive start, exclusive end) come up often.
REFERENCE = dt.datetime(2027, 3, 2, 4, 0, tzinfo=dt.UTC)
INSTANT = st.integers(-72, 72).map(lambda hours: REFERENCE + dt.timedelta(hours=hours))
OFFSETS = st.sampled_from([dt.timezone(dt.timedelta(hours=h)) for h in range(-12, 15)])
NOW = st.builds(lambda instant, zone: instant.astimezone(zone), INSTANT, OFFSETS)


@dataclass(frozen=True)
class Sale:
    """One random input to `quote`."""

    basket: Basket
    member: MemberContext
    program: Program
    now: dt.datetime


def subset(items, min_size: int = 0) -> st.SearchStrategy[frozenset]:
    return st.frozensets(st.sampled_from(items), min_size=min_size, max_size=2)


# Fen; one price in three is tiny, where rounding trouble lives.
PRICE = st.integers(0, 20) | st.integers(21, 50000) | st.integers(100, 50000)


@st.composite
def _line(draw) -> Line:
    sku = draw(st.sampled_from(SKUS))
    unit_price = draw(PRICE)
    member_price = draw(st.none() | st.integers(0, 60000))
    return Line(sku, CATALOGUE[sku], draw(st.integers(1, 6)), unit_price, member_price)


LINE = _line()
MULTIPLIER = st.sampled_from((50, 100, 125, 150, 200, 300))
DISCOUNTS = st.dictionaries(st.sampled_from(CATEGORIES), st.integers(1, 100), max_size=3)


@st.composite
def _tiers(draw) -> tuple[Tier, ...]:
    codes = draw(st.lists(st.sampled_from(TIER_CODES), max_size=3, unique=True))
    ranks = draw(st.permutations(range(len(codes))))
    return tuple(
        Tier(code, rank, draw(DISCOUNTS), draw(MULTIPLIER))
        for code, rank in zip(codes, ranks, strict=True)
    )


CONDITION_PARTS = {
    "min_amount": st.integers(1, 100000),
    "min_quantity": st.integers(1, 8),
    "skus": subset(SKUS),
    "categories": subset(CATEGORIES),
    "tiers": subset(TIER_CODES),
    "weekdays": st.frozensets(st.integers(1, 7), min_size=1, max_size=4),
    "stores": subset(STORES),
    "starts_at": INSTANT,
    "ends_at": INSTANT,
    "first_purchase": st.just(True),
}
# Most promotions have none or few conditions, so that many of them do apply.
PART_NAMES = st.lists(st.sampled_from(sorted(CONDITION_PARTS)), max_size=2, unique=True)
RARELY = st.sampled_from((False, False, False, True))


@st.composite
def _condition(draw) -> Condition:
    return Condition(**{part: draw(CONDITION_PARTS[part]) for part in draw(PART_NAMES)})


VALUES = {
    "percent": st.integers(1, 100),
    "fixed": st.integers(1, 50000),
    "fixed_price": st.integers(0, 50000),
    "cheapest_percent": st.integers(1, 100),
    "points_multiplier": st.sampled_from((100, 150, 200, 300)),
}
CAP = st.none() | st.integers(1, 20000)


@st.composite
def _benefit(draw, whole_order: bool) -> Benefit:
    """A benefit limited to some SKUs, or to some categories, or to none (never both: the
    engine takes their union, and no hand-worked rule here depends on it)."""
    types = [t for t in BENEFIT_TYPES if not (whole_order and t == "free_shipping")]
    kind = draw(st.sampled_from(types))
    fields: dict = {"value": draw(VALUES[kind]) if kind in VALUES else 0}
    if kind == "free_items":
        if draw(st.booleans()):
            fields |= {"buy": draw(st.integers(1, 3)), "get": draw(st.integers(1, 2))}
        else:
            fields["quantity"] = draw(st.integers(1, 3))
    if kind == "gift":
        fields |= {"sku": "GIFT-MUG", "quantity": draw(st.integers(0, 2))}
    scope = "whole" if whole_order else draw(st.sampled_from(("whole", "skus", "categories")))
    if scope == "skus":
        fields["skus"] = draw(subset(SKUS, min_size=1))
    elif scope == "categories":
        fields["categories"] = draw(subset(CATEGORIES, min_size=1))
    fields["max_discount"] = draw(CAP)
    return Benefit(kind, **fields)


BENEFIT = {flag: _benefit(flag) for flag in (False, True)}
STACKING = st.sampled_from(("stackable", "stackable", "exclusive"))
PRIORITY = st.integers(1, 5).map(lambda p: p * 10)  # few values: equal priorities happen
CONDITION = _condition()


@st.composite
def _promotion(draw, whole_order: bool) -> Promotion:
    """A promotion named "?": the caller names it and sets its kind."""
    return Promotion(
        code="?",
        kind="automatic",
        benefit=draw(BENEFIT[whole_order]),
        condition=draw(CONDITION),
        stacking=draw(STACKING),
        priority=draw(PRIORITY),
        members_only=draw(RARELY),
    )


PROMOTION = {flag: _promotion(flag) for flag in (False, True)}
KIND = st.sampled_from(("automatic", "code"))
HOLDER = st.sampled_from(("m1", "m1", "m1", "m2", None))
MAYBE_INSTANT = st.one_of(st.none(), st.none(), INSTANT)  # most coupons: no date limit


def named(promotion: Promotion, code: str, kind: str) -> Promotion:
    return dataclasses.replace(promotion, code=code, name=code, kind=kind)


@st.composite
def _coupon(draw, whole_order: bool) -> Coupon:
    return Coupon(
        code="?",
        promotion=draw(PROMOTION[whole_order]),
        member_id=draw(HOLDER),
        valid_from=draw(MAYBE_INSTANT),
        valid_until=draw(MAYBE_INSTANT),
        used=draw(RARELY),
    )


COUPON = {flag: _coupon(flag) for flag in (False, True)}
EARN = st.none() | st.builds(EarnRule, st.integers(1, 20000), st.integers(0, 5))
REDEEM = st.none() | st.builds(
    RedeemRule, st.integers(1, 200), st.integers(1, 200), st.integers(0, 100)
)


@st.composite
def _program(draw, whole_order: bool) -> Program:
    count = draw(st.integers(0, 20))
    promotions = draw(
        st.lists(st.tuples(PROMOTION[whole_order], KIND), min_size=count, max_size=count)
    )
    return Program(
        timezone=draw(st.sampled_from(ZONES)),
        tiers=draw(_tiers()),
        promotions=tuple(named(p, f"P{i}", kind) for i, (p, kind) in enumerate(promotions)),
        earn=draw(EARN),
        earn_exclude_categories=frozenset() if whole_order else draw(subset(CATEGORIES)),
        redeem=draw(REDEEM),
    )


def _member(draw, program: Program, coupons: dict[str, Coupon]) -> MemberContext:
    if draw(st.integers(0, 3)) == 0:
        # A walk-in may still type a code the till found as a coupon (someone else's).
        return MemberContext(coupons=coupons)
    tier_codes = [t.code for t in program.tiers]
    return MemberContext(
        member_id="m1",
        tier=draw(st.none() | st.sampled_from(tier_codes)) if tier_codes else None,
        points_available=draw(st.integers(0, 100000)),
        stored_value=draw(st.integers(0, 200000)),
        first_purchase=draw(st.booleans()),
        coupons=coupons,
    )


@st.composite
def _sale(draw, whole_order: bool) -> Sale:
    program = draw(_program(whole_order))
    coupon_list = [
        dataclasses.replace(c, code=f"C{i}", promotion=named(c.promotion, f"C{i}", "coupon"))
        for i, c in enumerate(draw(st.lists(COUPON[whole_order], max_size=3)))
    ]
    member = _member(draw, program, {c.code: c for c in coupon_list})
    typed = [p.code for p in program.promotions if p.kind == "code"]
    typed += [c.code for c in coupon_list] + ["NOPE"]
    basket = Basket(
        store=draw(st.sampled_from(STORES)),
        lines=tuple(draw(st.lists(LINE, min_size=1, max_size=8))),
        codes=tuple(draw(st.lists(st.sampled_from(typed), max_size=6))),
        points_to_redeem=draw(st.integers(0, 20000)),
        stored_value=draw(st.integers(0, 100000)),
    )
    return Sale(basket, member, program, draw(NOW))


_SALES = {flag: _sale(flag) for flag in (False, True)}


def sales(whole_order: bool = False) -> st.SearchStrategy[Sale]:
    """A random sale. `whole_order`: every benefit reaches every line and no category is left
    out of earning, so no result can depend on which line a remainder fen landed on."""
    return _SALES[whole_order]


def benefits() -> st.SearchStrategy[Benefit]:
    return BENEFIT[False]
