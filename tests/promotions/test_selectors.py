"""The bridge to the pricing engine: rows -> `patron.engine.pricing` dataclasses, cached."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patron.engine import pricing
from patron.engine.points import EarnRule
from patron.members.models import Member
from patron.members.services import register_member
from patron.program.services import apply_program
from patron.promotions import selectors, services
from patron.promotions.codes import display_code
from patron.promotions.models import Coupon, CouponStatus
from patron.tenancy.actor import Actor
from patron.tenancy.services import create_merchant
from tests.promotions.conftest import PROGRAM, program

pytestmark = [pytest.mark.postgres]
UTC = dt.UTC


def test_engine_program_converts_every_row(applied):
    engine = selectors.engine_program(applied.merchant)
    assert engine.timezone == "Asia/Shanghai"
    assert engine.tiers == (
        pricing.Tier(code="normal", rank=0, discount={}, points_multiplier_percent=100),
        pricing.Tier(code="silver", rank=1, discount={"rooms": 88}),
        pricing.Tier(
            code="gold", rank=2, discount={"dishes": 90, "rooms": 80}, points_multiplier_percent=150
        ),
    )
    by_code = {p.code: p for p in engine.promotions}
    assert [p.code for p in engine.promotions] == ["tuesday", "double", "SPRING10"]
    assert by_code["tuesday"] == pricing.Promotion(
        code="tuesday",
        kind="automatic",
        name="会员日",
        benefit=pricing.Benefit(type="percent", value=10),
        condition=pricing.Condition(weekdays=frozenset({2})),
        stacking="stackable",
        priority=10,
        members_only=True,
    )
    assert by_code["SPRING10"].condition == pricing.Condition(
        min_amount=20000,
        starts_at=dt.datetime(2027, 2, 28, 16, tzinfo=UTC),
        ends_at=dt.datetime(2027, 3, 31, 16, tzinfo=UTC),
    )
    assert by_code["SPRING10"].benefit == pricing.Benefit(
        type="fixed", value=1000, categories=frozenset({"dishes"})
    )
    double = by_code["double"]
    assert double.benefit == pricing.Benefit(type="points_multiplier", value=200)
    assert double.condition.tiers == frozenset({"gold", "silver"})
    assert double.condition.stores == frozenset({"S1"}) and double.stacking == "exclusive"


def test_engine_program_takes_the_points_rules_from_the_ledger(applied):
    engine = selectors.engine_program(applied.merchant)
    # No points section applied: the ledger's defaults.
    assert engine.earn == EarnRule(per_amount=10000, points=1)
    assert engine.redeem == pricing.RedeemRule(points=100, value=100, max_share_percent=50)
    assert engine.earn_exclude_categories == frozenset()
    apply_program(
        applied,
        {
            "points": {
                "earn": {"per_amount": 100, "points": 2},
                "earn_exclude_categories": ["drinks"],
                "redeem_cash": {"points": 50, "value": 100, "max_share_percent": 30},
            }
        },
    )
    engine = selectors.engine_program(applied.merchant)
    assert engine.earn == EarnRule(per_amount=100, points=2)
    assert engine.earn_exclude_categories == frozenset({"drinks"})
    assert engine.redeem == pricing.RedeemRule(points=50, value=100, max_share_percent=30)


def test_an_applied_change_is_seen_at_once(applied):
    assert len(selectors.engine_program(applied.merchant).promotions) == 3
    apply_program(applied, program(promotions=PROGRAM["promotions"][:1]))
    assert [p.code for p in selectors.engine_program(applied.merchant).promotions] == ["tuesday"]
    tiers = [dict(t) for t in PROGRAM["tiers"]]
    tiers[1]["discount"] = {"rooms": 85}
    apply_program(applied, {"tiers": tiers})
    silver = selectors.engine_program(applied.merchant).tiers[1]
    assert silver.discount == {"rooms": 85}


def test_a_cached_program_costs_two_small_queries(applied):
    selectors.engine_program(applied.merchant)
    with CaptureQueriesContext(connection) as queries:
        again = selectors.engine_program(applied.merchant)
    assert len(queries) == 2  # latest revision id, points policy
    assert len(again.promotions) == 3


def test_merchants_do_not_share_cached_rules(applied, db):
    other = create_merchant("other", "Other Co")
    assert selectors.engine_program(other).promotions == ()
    assert selectors.engine_program(other).tiers == ()
    assert len(selectors.engine_program(applied.merchant).promotions) == 3


def test_at_leaves_out_promotions_outside_their_window(applied):
    inside = dt.datetime(2027, 3, 10, 12, tzinfo=UTC)
    before = dt.datetime(2027, 2, 28, 15, 59, tzinfo=UTC)
    after = dt.datetime(2027, 3, 31, 16, tzinfo=UTC)  # ends_at is exclusive

    def codes(at: dt.datetime) -> set[str]:
        return {p.code for p in selectors.engine_program(applied.merchant, at=at).promotions}

    assert codes(inside) == {"tuesday", "double", "SPRING10"}
    assert codes(before) == codes(after) == {"tuesday", "double"}


def test_member_tier_code_falls_back_to_rank_zero(applied, member, hq):
    assert selectors.member_tier_code(member) == "normal"
    services.set_member_tier(hq, member, "gold")
    assert selectors.member_tier_code(member) == "gold"
    merchant = create_merchant("plain", "No tiers")
    loner = register_member(Actor.system(merchant), {"mobile": "13900139000"})
    assert selectors.member_tier_code(loner) is None


def test_with_tiers_shows_a_page_of_tiers_in_one_query(applied, hq):
    for index in range(5):
        member = register_member(applied, {"mobile": f"1380013800{index}"})
        if index % 2:
            services.set_member_tier(hq, member, "silver")
    with CaptureQueriesContext(connection) as queries:
        members = list(selectors.with_tiers(Member.objects.filter(merchant=applied.merchant)))
        codes = sorted(selectors.member_tier_code(m) for m in members)
    assert len(queries) == 1
    assert codes == ["normal", "normal", "normal", "silver", "silver"]


# --- coupons ---------------------------------------------------------------------------------


def test_engine_coupons_find_codes_however_they_are_typed(applied, member):
    coupon = services.issue_coupon(applied, member, "room_night")
    typed = display_code(coupon.code).lower()
    found = selectors.coupons_for_sale(applied.merchant, [typed, "SPRING10", "nothing"])
    assert list(found) == [typed]
    assert found[typed].id == coupon.pk
    engine = found[typed].coupon
    assert engine == pricing.Coupon(
        code=coupon.code,
        promotion=pricing.Promotion(
            code=coupon.code,
            kind="coupon",
            name="免费房券",
            benefit=pricing.Benefit(type="free_items", quantity=1, skus=frozenset({"ROOM-STD"})),
            condition=pricing.Condition(),
        ),
        member_id=str(member.pk),
        valid_from=coupon.valid_from,
        valid_until=coupon.valid_until,
        used=False,
    )
    assert selectors.engine_coupons(applied.merchant, [typed]) == {typed: engine}


def test_used_and_withdrawn_coupons_cannot_apply(applied, member):
    used = services.issue_coupon(applied, member, "room_night")
    ended = services.issue_coupon(applied, member, "room_night")
    services.consume_coupon(used.pk, sale_ref="s1", at=timezone.now())
    services.end_coupon(applied, ended, reason="mistake")
    found = selectors.engine_coupons(applied.merchant, [used.code, ended.code])
    assert found[used.code].used is True
    # The engine knows no "ended": a withdrawn coupon looks long expired to it.
    assert found[ended.code].used is False
    assert found[ended.code].valid_until < timezone.now()


def test_another_merchants_coupon_is_not_found(applied, member):
    coupon = services.issue_coupon(applied, member, "room_night")
    other = create_merchant("other", "Other Co")
    assert selectors.engine_coupons(other, [coupon.code]) == {}


def test_member_coupons_filter_by_shown_status(applied, member):
    usable = services.issue_coupon(applied, member, "room_night")
    later = services.issue_coupon(applied, member, "cny")  # valid from 2099
    used = services.issue_coupon(applied, member, "cny")
    services.consume_coupon(used.pk, sale_ref="s", at=timezone.now())
    expired = services.issue_coupon(applied, member, "cny")
    Coupon.objects.filter(pk=expired.pk).update(valid_until=timezone.now())

    def codes(status):
        return {c.code for c in selectors.member_coupons(member, status)}

    assert codes(None) == {usable.code, later.code, used.code, expired.code}
    assert codes("available") == {usable.code, later.code}
    assert codes("used") == {used.code}
    assert codes("expired") == {expired.code}
    assert codes("ended") == set()
    assert selectors.shown_status(Coupon.objects.get(pk=expired.pk)) == "expired"
    assert Coupon.objects.get(pk=expired.pk).status == CouponStatus.AVAILABLE
    with pytest.raises(ValueError):
        selectors.member_coupons(member, "lost")
