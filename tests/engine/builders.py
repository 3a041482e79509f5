"""Short constructors for pricing-engine inputs, and the invariants every quote must keep.

The scenario table and the property tests share them, so a hand-worked scenario is checked
against the same invariants as a random one.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from fractions import Fraction
from zoneinfo import ZoneInfo

from patron.engine.points import EarnRule
from patron.engine.pricing import (
    CONDITION_NOT_MET,
    COUPON_EXPIRED,
    COUPON_NOT_YET_VALID,
    COUPON_OTHER_MEMBER,
    COUPON_USED,
    DUPLICATE_CODE,
    MEMBERS_ONLY,
    NO_DISCOUNT,
    NOT_COMBINABLE,
    SHIPPING_CATEGORY,
    UNKNOWN_CODE,
    Basket,
    Benefit,
    Condition,
    Coupon,
    Line,
    MemberContext,
    Program,
    Promotion,
    Quote,
    RedeemRule,
    Tier,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Tuesday 2 March 2027, noon in Shanghai (API.md §3's sample sale).
NOW = dt.datetime(2027, 3, 2, 12, 0, tzinfo=SHANGHAI)
REASONS = frozenset(
    {
        CONDITION_NOT_MET,
        NOT_COMBINABLE,
        SHIPPING_CATEGORY,
        MEMBERS_ONLY,
        UNKNOWN_CODE,
        COUPON_USED,
        COUPON_EXPIRED,
        COUPON_NOT_YET_VALID,
        COUPON_OTHER_MEMBER,
        DUPLICATE_CODE,
        NO_DISCOUNT,
    }
)
# Benefits that give no money off (their `Applied.amount` is 0 by design).
ZERO_AMOUNT_BENEFITS = frozenset({"gift", "points_multiplier"})

# API.md §2's tiers, listed out of rank order so "no tier means the lowest rank" is tested.
TIERS = (
    Tier("silver", rank=1, discount={"rooms": 88}),
    Tier("gold", rank=2, discount={"rooms": 80, "dishes": 90}, points_multiplier_percent=150),
    Tier("normal", rank=0),
)
EARN = EarnRule(per_amount=10000, points=1)  # 1 point per 100 yuan paid
REDEEM = RedeemRule(points=100, value=100, max_share_percent=50)  # 100 points = 1 yuan
WALK_IN = MemberContext()


def line(sku: str, category: str, quantity: int, unit_price: int, member_price=None) -> Line:
    return Line(sku, category, quantity, unit_price, member_price)


def basket(
    *lines: Line,
    codes: tuple[str, ...] = (),
    points: int = 0,
    stored_value: int = 0,
    store: str = "S1",
) -> Basket:
    return Basket(store, tuple(lines), codes, points, stored_value)


def program(*promotions: Promotion, **overrides) -> Program:
    fields = {"tiers": TIERS, "earn": EARN, "redeem": REDEEM, **overrides}
    return Program(promotions=promotions, **fields)


def member(
    tier: str | None = None,
    *,
    member_id: str = "m1",
    points: int = 0,
    stored_value: int = 0,
    first_purchase: bool = False,
    coupons: tuple[Coupon, ...] = (),
) -> MemberContext:
    return MemberContext(
        member_id=member_id,
        tier=tier,
        points_available=points,
        stored_value=stored_value,
        first_purchase=first_purchase,
        coupons={c.code: c for c in coupons},
    )


def benefit(type_: str, value: int = 0, **fields) -> Benefit:
    for name in ("skus", "categories"):
        if name in fields:
            fields[name] = frozenset(fields[name])
    return Benefit(type_, value, **fields)


def promo(
    code: str,
    benefit_: Benefit,
    *,
    kind: str = "automatic",
    priority: int = 100,
    stacking: str = "stackable",
    members_only: bool = False,
    **condition,
) -> Promotion:
    for name in ("skus", "categories", "tiers", "weekdays", "stores"):
        if name in condition:
            condition[name] = frozenset(condition[name])
    return Promotion(
        code=code,
        kind=kind,
        benefit=benefit_,
        condition=Condition(**condition),
        name=code,
        stacking=stacking,
        priority=priority,
        members_only=members_only,
    )


def code_promo(code: str, benefit_: Benefit, **fields) -> Promotion:
    return promo(code, benefit_, kind="code", **fields)


def coupon(
    code: str,
    benefit_: Benefit,
    *,
    member_id: str | None = "m1",
    valid_from: dt.datetime | None = None,
    valid_until: dt.datetime | None = None,
    used: bool = False,
    **condition,
) -> Coupon:
    return Coupon(
        code=code,
        promotion=promo(code, benefit_, kind="coupon", **condition),
        member_id=member_id,
        valid_from=valid_from,
        valid_until=valid_until,
        used=used,
    )


# --- invariants ------------------------------------------------------------------------------


def in_scope(benefit_: Benefit, sku: str, category: str) -> bool:
    """Whether a benefit reaches a line: its skus/categories when given, else every line
    (free shipping: the shipping lines)."""
    categories = benefit_.categories
    if benefit_.type == "free_shipping" and not categories:
        categories = frozenset({SHIPPING_CATEGORY})
    if not benefit_.skus and not categories:
        return True
    return sku in benefit_.skus or category in categories


def tier_of(member_: MemberContext, program_: Program) -> Tier | None:
    if member_.member_id is None or not program_.tiers:
        return None
    if member_.tier is None:
        return min(program_.tiers, key=lambda t: t.rank)
    return next((t for t in program_.tiers if t.code == member_.tier), None)


def expected_points_earned(
    quote: Quote, member_: MemberContext, program_: Program, promotions: dict[str, Promotion]
) -> int:
    """The lead's earn formula applied to the engine's own line totals and applied list."""
    tier = tier_of(member_, program_)
    if member_.member_id is None or program_.earn is None:
        return 0
    multipliers = [
        promotions[a.code].benefit
        for a in quote.applied
        if a.code in promotions and promotions[a.code].benefit.type == "points_multiplier"
    ]
    weighted = Fraction(0)
    for priced in quote.lines:
        if priced.category in program_.earn_exclude_categories:
            continue
        percent = Fraction(tier.points_multiplier_percent if tier else 100)
        for b in multipliers:
            if in_scope(b, priced.sku, priced.category):
                percent = percent * b.value / 100
        weighted += priced.total * percent
    units = int(weighted // (100 * program_.earn.per_amount))
    return max(units, 0) * program_.earn.points


def promotions_by_code(program_: Program, member_: MemberContext) -> dict[str, Promotion]:
    """Every promotion the engine could name in `applied`: the program's and the coupons'."""
    found = {p.code: p for p in program_.promotions}
    found.update({code: c.promotion for code, c in member_.coupons.items()})
    return found


def check_invariants(
    quote: Quote, basket_: Basket, member_: MemberContext, program_: Program
) -> None:
    """What holds for every quote whatever the promotions (the issue's property list)."""
    check_money(quote, basket_, member_)
    check_lines(quote, basket_, member_)
    check_applied(quote, basket_, member_, program_)
    check_points(quote, basket_, member_, program_)


def check_money(quote: Quote, basket_: Basket, member_: MemberContext) -> None:
    subtotal = sum(ln.quantity * ln.unit_price for ln in basket_.lines)
    assert quote.subtotal == subtotal
    assert quote.total >= 0
    assert quote.total == quote.subtotal - quote.discount - quote.points_value
    assert quote.saved == quote.subtotal - quote.total
    assert quote.discount == quote.member_discount + sum(a.amount for a in quote.applied)
    assert quote.stored_value_paid == min(basket_.stored_value, quote.total)
    assert quote.cash_due + quote.stored_value_paid == quote.total
    assert quote.cash_due >= 0
    if member_.member_id is None:
        assert quote.member_discount == 0
    on_card = member_.stored_value if member_.member_id is not None else 0
    assert quote.insufficient_stored_value == (quote.stored_value_paid > on_card)


def check_lines(quote: Quote, basket_: Basket, member_: MemberContext) -> None:
    assert sum(priced.total for priced in quote.lines) == quote.total
    assert sum(priced.points_offset for priced in quote.lines) == quote.points_value
    sold = [priced for priced in quote.lines if not priced.gift]
    assert [(p.sku, p.quantity, p.unit_price) for p in sold] == [
        (ln.sku, ln.quantity, ln.unit_price) for ln in basket_.lines
    ]
    member_discount = 0
    for priced in quote.lines:
        amount = priced.quantity * priced.unit_price
        assert priced.total >= 0
        assert 0 <= priced.discount <= amount
        assert priced.points_offset >= 0
        assert priced.total == amount - priced.discount - priced.points_offset
        assert 0 <= priced.member_price <= priced.unit_price
        if member_.member_id is None:
            assert priced.member_price == priced.unit_price
        member_discount += (priced.unit_price - priced.member_price) * priced.quantity
        if priced.gift:
            assert (priced.category, priced.unit_price, priced.total) == ("", 0, 0)
    assert member_discount == quote.member_discount


def check_applied(quote: Quote, basket_: Basket, member_: MemberContext, program_: Program) -> None:
    promotions = promotions_by_code(program_, member_)
    for applied in quote.applied:
        promotion = promotions[applied.code]
        assert 0 <= applied.amount <= quote.subtotal
        cap = promotion.benefit.max_discount
        assert cap is None or applied.amount <= cap
        if promotion.benefit.type in ZERO_AMOUNT_BENEFITS:
            assert applied.amount == 0
        else:
            assert applied.amount > 0, "a promotion giving nothing is not applied"
        if member_.member_id is None:
            assert not promotion.members_only
    exclusive = [a for a in quote.applied if promotions[a.code].stacking == "exclusive"]
    assert len(exclusive) <= 1
    if exclusive:
        assert len(quote.applied) == 1, "an exclusive promotion applies alone"
    assert all(r.reason in REASONS for r in quote.rejected)
    # Every code on the sale is answered exactly once: applied or rejected with a reason.
    answered = Counter(a.code for a in quote.applied if a.kind != "automatic")
    answered.update(r.code for r in quote.rejected)
    assert answered == Counter(basket_.codes)


def check_points(quote: Quote, basket_: Basket, member_: MemberContext, program_: Program) -> None:
    assert 0 <= quote.points_redeemed <= basket_.points_to_redeem
    redeem = program_.redeem
    asked = basket_.points_to_redeem
    if redeem is not None and member_.member_id is not None:
        # What the rule allows on what is left before points (API.md §3: lowered first).
        left = quote.total + quote.points_value
        asked = min(asked, left * redeem.max_share_percent // 100 // redeem.value * redeem.points)
    held = member_.points_available if member_.member_id is not None else 0
    assert quote.insufficient_points == (asked > held)
    if redeem is None or quote.points_redeemed == 0:
        assert quote.points_value == 0
    else:
        assert quote.points_redeemed % redeem.points == 0
        assert quote.points_value == quote.points_redeemed // redeem.points * redeem.value
        left = quote.subtotal - quote.discount
        assert quote.points_value <= left * redeem.max_share_percent // 100
    promotions = promotions_by_code(program_, member_)
    assert quote.points_earned == expected_points_earned(quote, member_, program_, promotions)
