"""Properties of `quote` over random sales (issue 5): money never goes negative or astray,
the result is deterministic, and conditions that exclude a promotion always exclude it.

Random sales have 0-20 promotions of every benefit type and condition, coupons in every
state, random tiers, earn and redeem rules, and a `now` in any UTC offset (strategies.py).
Example counts are modest so the file runs in about 10-20 s; a failure found once is replayed
from .hypothesis/ on the next run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patron.engine.pricing import Basket, Condition, MemberContext, Promotion, Quote, quote
from tests.engine.builders import (
    NOW,
    WALK_IN,
    basket,
    benefit,
    check_invariants,
    coupon,
    in_scope,
    line,
    member,
    program,
    promo,
)
from tests.engine.strategies import Sale, benefits, sales

# The project's autouse fixtures (password hashers) do not touch the engine.
PROPERTY = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FEW = settings(PROPERTY, max_examples=40)


def priced(sale: Sale, **changes) -> Quote:
    basket = dataclasses.replace(sale.basket, **changes) if changes else sale.basket
    return quote(basket, sale.member, sale.program, sale.now)


def order_figures(result: Quote) -> tuple:
    return (
        result.subtotal,
        result.member_discount,
        result.discount,
        result.total,
        result.points_redeemed,
        result.points_value,
        result.points_earned,
        result.stored_value_paid,
        sorted((a.code, a.amount) for a in result.applied),
        sorted((r.code, r.reason) for r in result.rejected),
    )


@PROPERTY
@given(sales())
def test_every_quote_keeps_the_invariants(sale: Sale):
    """total >= 0; line totals add up to it; no line below 0; no discount above what it
    applies to or above its cap; cash + stored value = total; points within the request,
    the share cap and whole units; points earned by the stated formula; every code on the
    sale applied or rejected with a known reason, exactly once."""
    check_invariants(priced(sale), sale.basket, sale.member, sale.program)


@FEW
@given(sales())
def test_quoting_twice_gives_an_equal_quote(sale: Sale):
    assert priced(sale) == priced(sale)


@FEW
@given(sales(), st.randoms(use_true_random=False))
def test_line_order_never_changes_the_subtotal_or_member_prices(sale: Sale, rng):
    lines = list(sale.basket.lines)
    rng.shuffle(lines)
    first, second = priced(sale), priced(sale, lines=tuple(lines))
    assert (second.subtotal, second.member_discount) == (first.subtotal, first.member_discount)


@PROPERTY
@given(sales(whole_order=True), st.randoms(use_true_random=False))
def test_line_order_does_not_change_what_the_sale_costs(sale: Sale, rng):
    """With every benefit on the whole order, a remainder fen landing on another line cannot
    change any later step, so the order's figures must not depend on the line order.
    (With scoped benefits they may, legitimately: allocate gives ties to the earliest line,
    and a 1-fen difference inside a scope can move a later threshold.)"""
    lines = list(sale.basket.lines)
    rng.shuffle(lines)
    assert order_figures(priced(sale, lines=tuple(lines))) == order_figures(priced(sale))


@FEW
@given(sales(), st.randoms(use_true_random=False))
def test_order_of_promotions_in_the_program_does_not_matter(sale: Sale, rng):
    """They apply by (priority, code), whatever order the program file lists them in."""
    promotions = list(sale.program.promotions)
    rng.shuffle(promotions)
    program = dataclasses.replace(sale.program, promotions=tuple(promotions))
    assert quote(sale.basket, sale.member, program, sale.now) == priced(sale)


def outside(now: dt.datetime, start_offset: int, length: int) -> Condition:
    """A window that ends at or before `now`, or starts after it."""
    if start_offset > 0:  # not started yet
        starts = now + dt.timedelta(seconds=start_offset)
        return Condition(starts_at=starts, ends_at=starts + dt.timedelta(seconds=length))
    ends = now + dt.timedelta(seconds=start_offset)  # ended (ends_at is exclusive)
    return Condition(starts_at=ends - dt.timedelta(seconds=length), ends_at=ends)


@PROPERTY
@given(
    sales(),
    benefits(),
    st.sampled_from(("automatic", "code")),
    st.sampled_from(("stackable", "exclusive")),
    st.integers(-86400, 86400),
    st.integers(1, 86400),
)
def test_a_promotion_outside_its_window_never_applies(
    sale: Sale, benefit, kind, stacking, start_offset, length
):
    out = Promotion(
        code="OUT",
        kind=kind,
        benefit=benefit,
        condition=outside(sale.now, start_offset, length),
        stacking=stacking,
        priority=1,
    )
    program = dataclasses.replace(sale.program, promotions=(*sale.program.promotions, out))
    basket = dataclasses.replace(sale.basket, codes=(*sale.basket.codes, "OUT"))
    result = quote(basket, sale.member, program, sale.now)
    assert "OUT" not in {a.code for a in result.applied}
    if kind == "code":
        assert {r.reason for r in result.rejected if r.code == "OUT"} <= {
            "condition_not_met",
            "members_only",
        }
    check_invariants(result, basket, sale.member, program)


def excluded_by_context(promotion: Promotion, sale: Sale) -> bool:
    """Whether the sale's context alone (not its amounts) rules the promotion out."""
    from zoneinfo import ZoneInfo

    condition = promotion.condition
    local = sale.now.astimezone(ZoneInfo(sale.program.timezone))
    is_member = sale.member.member_id is not None
    tiers = sale.program.tiers
    tier = None
    if is_member and tiers:
        named = [t for t in tiers if t.code == sale.member.tier]
        tier = named[0] if named else min(tiers, key=lambda t: t.rank)
    basket_skus = {ln.sku for ln in sale.basket.lines}
    basket_categories = {ln.category for ln in sale.basket.lines}
    return (
        (promotion.members_only and not is_member)
        or (condition.starts_at is not None and sale.now < condition.starts_at)
        or (condition.ends_at is not None and sale.now >= condition.ends_at)
        or bool(condition.weekdays and local.isoweekday() not in condition.weekdays)
        or bool(condition.stores and sale.basket.store not in condition.stores)
        or bool(condition.tiers and (tier is None or tier.code not in condition.tiers))
        or (condition.first_purchase and not (is_member and sale.member.first_purchase))
        or not condition.skus <= basket_skus
        or not condition.categories <= basket_categories
    )


def coupon_unusable(code: str, sale: Sale) -> bool:
    coupon = sale.member.coupons[code]
    return (
        coupon.used
        or (coupon.member_id is not None and coupon.member_id != sale.member.member_id)
        or (coupon.valid_from is not None and sale.now < coupon.valid_from)
        or (coupon.valid_until is not None and sale.now >= coupon.valid_until)
    )


def beyond_reach(promotion: Promotion, sale: Sale) -> bool:
    """Whether a threshold exceeds its scope at list price (what is left is never more)."""
    scope = [ln for ln in sale.basket.lines if in_scope(promotion.benefit, ln.sku, ln.category)]
    condition = promotion.condition
    amount = sum(ln.quantity * ln.unit_price for ln in scope)
    units = sum(ln.quantity for ln in scope)
    return (condition.min_amount or 0) > amount or (condition.min_quantity or 0) > units


@PROPERTY
@given(sales())
def test_unmet_conditions_always_exclude(sale: Sale):
    """Members only, window, weekday (merchant's zone), store, tier, first purchase, basket
    contents, a threshold above its scope's list price; for coupons also used / someone
    else's / not yet valid / expired."""
    result = priced(sale)
    promotions = {p.code: p for p in sale.program.promotions}
    for applied in result.applied:
        if applied.kind == "coupon":
            assert not coupon_unusable(applied.code, sale)
            promotion = sale.member.coupons[applied.code].promotion
        else:
            promotion = promotions[applied.code]
        assert not excluded_by_context(promotion, sale), applied.code
        assert not beyond_reach(promotion, sale), applied.code


@FEW
@given(sales(), st.integers(0, 20000))
def test_asking_for_more_points_never_costs_more(sale: Sale, more: int):
    """Promotions do not look at points, so a bigger request redeems at least as much."""
    fewer = priced(sale)
    more_points = priced(sale, points_to_redeem=sale.basket.points_to_redeem + more)
    assert more_points.points_redeemed >= fewer.points_redeemed
    assert more_points.total <= fewer.total
    assert more_points.discount == fewer.discount


@FEW
@given(sales(), st.integers(0, 300000))
def test_stored_value_only_splits_the_payment(sale: Sale, stored_value: int):
    """Paying by stored value changes how the total is paid, not the total or the points."""
    by_cash = priced(sale, stored_value=0)
    by_card = priced(sale, stored_value=stored_value)
    assert order_figures(by_card)[:7] == order_figures(by_cash)[:7]
    assert by_card.stored_value_paid == min(stored_value, by_cash.total)
    assert by_card.cash_due == by_cash.total - by_card.stored_value_paid


@FEW
@given(sales())
def test_without_promotions_only_member_prices_discount(sale: Sale):
    program = dataclasses.replace(sale.program, promotions=())
    basket = Basket(sale.basket.store, sale.basket.lines)
    result = quote(basket, sale.member, program, sale.now)
    assert result.discount == result.member_discount
    assert result.applied == () and result.rejected == ()
    assert not any(line.gift for line in result.lines)


@FEW
@given(sales())
def test_benefits_reach_only_their_scope(sale: Sale):
    """A line outside every applied money benefit's scope keeps its member price."""
    result = priced(sale)
    promotions = {p.code: p for p in sale.program.promotions}
    promotions |= {code: c.promotion for code, c in sale.member.coupons.items()}
    reaching = [
        promotions[a.code].benefit
        for a in result.applied
        if a.benefit not in ("gift", "points_multiplier")
    ]
    for priced_line in result.lines:
        if priced_line.gift or any(
            in_scope(b, priced_line.sku, priced_line.category) for b in reaching
        ):
            continue
        member_discount = priced_line.unit_price - priced_line.member_price
        assert priced_line.discount == member_discount * priced_line.quantity


ZONES = st.sampled_from(("Asia/Shanghai", "UTC", "America/Los_Angeles", "Pacific/Kiritimati"))
INSTANTS = st.integers(0, 21 * 86400).map(
    lambda s: dt.datetime(2027, 3, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=s)
)
UTC_OFFSETS = st.integers(-12, 14).map(lambda h: dt.timezone(dt.timedelta(hours=h)))
WINDOW_EDGE = st.none() | st.integers(-7200, 7200)


@PROPERTY
@given(
    ZONES,
    INSTANTS,
    UTC_OFFSETS,
    st.frozensets(st.integers(1, 7), min_size=1, max_size=6),
    WINDOW_EDGE,
    WINDOW_EDGE,
)
def test_weekday_and_window_are_decided_in_the_merchants_zone(
    zone, instant, offset, weekdays, start, end
):
    """A member-day promotion applies exactly when the merchant's local weekday is one of
    its days and starts_at <= now < ends_at, whatever offset `now` comes in."""
    from zoneinfo import ZoneInfo

    now = instant.astimezone(offset)
    starts = None if start is None else instant + dt.timedelta(seconds=start)
    ends = None if end is None else instant + dt.timedelta(seconds=end)
    day = promo("DAY", benefit("percent", 10), weekdays=weekdays, starts_at=starts, ends_at=ends)
    result = quote(
        basket(line("TEA", "drinks", 1, 1000)), WALK_IN, program(day, timezone=zone), now
    )
    expected = (
        instant.astimezone(ZoneInfo(zone)).isoweekday() in weekdays
        and (starts is None or starts <= instant)
        and (ends is None or instant < ends)
    )
    assert [(a.code, a.amount) for a in result.applied] == ([("DAY", 100)] if expected else [])


COUPON_HOLDER = st.sampled_from(("m1", "m2", None))


@PROPERTY
@given(COUPON_HOLDER, st.booleans(), WINDOW_EDGE, WINDOW_EDGE, st.booleans())
def test_a_coupon_applies_exactly_when_it_is_usable(holder, used, start, end, walk_in):
    """Used, someone else's, not yet valid (valid_from inclusive) or expired (valid_until
    exclusive): refused with one of the reasons that hold; otherwise applied."""
    valid_from = None if start is None else NOW + dt.timedelta(seconds=start)
    valid_until = None if end is None else NOW + dt.timedelta(seconds=end)
    issued = coupon(
        "SPRING-0001",
        benefit("percent", 10),
        member_id=holder,
        used=used,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    buyer = MemberContext(coupons={issued.code: issued}) if walk_in else member(coupons=(issued,))
    result = quote(
        basket(line("TEA", "drinks", 1, 1000), codes=("SPRING-0001",)), buyer, program(), NOW
    )
    reasons = set()
    if holder is not None and holder != buyer.member_id:
        reasons.add("coupon_other_member")
    if used:
        reasons.add("coupon_used")
    if valid_from is not None and valid_from > NOW:
        reasons.add("coupon_not_yet_valid")
    if valid_until is not None and valid_until <= NOW:
        reasons.add("coupon_expired")
    if reasons:
        assert result.applied == ()
        assert [r.code for r in result.rejected] == ["SPRING-0001"]
        assert result.rejected[0].reason in reasons
    else:
        assert [(a.code, a.amount) for a in result.applied] == [("SPRING-0001", 100)]
        assert result.rejected == ()


def test_line_order_does_not_change_the_total_with_scoped_benefits():
    """The issue's shuffle property for a case random search rarely hits (pinned by hand).

    P1: 10 % of 5 + 5 = 1 fen, tied between the two lines; P2: 5 fen off the room only.
    Room first: the room carries the fen (4 left), P2 takes 4 -> total 10 - 1 - 4 = 5.
    Dish first: the dish carries it, P2 takes 5 -> total 4. The total should not depend on
    which line the cashier scanned first."""
    room, dish = line("ROOM-STD", "rooms", 1, 5), line("DISH", "dishes", 1, 5)
    rules = program(
        promo("P1", benefit("percent", 10), priority=10),
        promo("P2", benefit("fixed", 5, skus={"ROOM-STD"}), priority=20),
    )
    first = quote(basket(room, dish), WALK_IN, rules, NOW)
    second = quote(basket(dish, room), WALK_IN, rules, NOW)
    assert order_figures(first) == order_figures(second)
