"""The pricing engine's side of limited offers: what it counts and what it leaves out, given
what is used so far as data (no database)."""

from __future__ import annotations

import datetime as dt

from patron.engine import pricing as p

NOW = dt.datetime(2027, 3, 2, 4, tzinfo=dt.UTC)
TEA = p.Line("TEA-LJ", "drinks", 2, 2000)
FISH = p.Line("DISH-FISH", "dishes", 1, 5000)
FLASH = p.Promotion(
    code="flash-tea",
    kind="automatic",
    benefit=p.Benefit(type="fixed_price", value=990, skus=frozenset({"TEA-LJ"})),
    limits=p.Limits(total=10, per_member=3),
)
MEMBER = "7"


def quote(*promotions, usage=None, member=MEMBER, lines=(TEA, FISH), codes=()):
    context = p.MemberContext(member_id=member, usage=usage or {})
    basket = p.Basket(store="S1", lines=lines, codes=codes)
    return p.quote(basket, context, p.Program(promotions=promotions), NOW)


def test_units_of_the_named_lines_are_counted():
    [applied] = quote(FLASH).applied
    assert (applied.code, applied.applications, applied.amount) == ("flash-tea", 2, 2020)


def test_a_whole_order_benefit_counts_one_per_sale_and_unlimited_ones_nothing():
    whole = p.Promotion(
        code="ten",
        kind="automatic",
        benefit=p.Benefit(type="percent", value=10),
        limits=p.Limits(total=5),
    )
    free = p.Promotion(code="five", kind="automatic", benefit=p.Benefit(type="fixed", value=500))
    assert {a.code: a.applications for a in quote(whole, free).applied} == {"ten": 1, "five": 0}


def test_what_would_exceed_is_left_out_with_its_reason():
    used = {"flash-tea": p.LimitUsage(sold=10)}
    result = quote(FLASH, usage=used)
    assert result.applied == () and result.total == 9000
    assert [(r.code, r.reason) for r in result.rejected] == [("flash-tea", "sold_out")]
    # 2 more for a member holding 2 of 3: the member's limit, though 1 unit would fit.
    used = {"flash-tea": p.LimitUsage(sold=2, member=2)}
    assert [r.reason for r in quote(FLASH, usage=used).rejected] == ["limit_reached"]
    used = {"flash-tea": p.LimitUsage(sold=9)}  # 1 left, 2 wanted
    assert [r.reason for r in quote(FLASH, usage=used).rejected] == ["sold_out"]
    today = p.Promotion(
        code="daily",
        kind="automatic",
        benefit=FLASH.benefit,
        limits=p.Limits(per_member_per_day=2),
    )
    used = {"daily": p.LimitUsage(member=40, member_today=1)}
    assert [r.reason for r in quote(today, usage=used).rejected] == ["limit_reached"]


def test_a_sold_out_exclusive_lets_the_stackable_ones_win():
    exclusive = p.Promotion(
        code="half",
        kind="automatic",
        benefit=p.Benefit(type="percent", value=50),
        stacking="exclusive",
        limits=p.Limits(total=1),
    )
    stackable = p.Promotion(
        code="ten", kind="automatic", benefit=p.Benefit(type="percent", value=10)
    )
    assert [a.code for a in quote(exclusive, stackable).applied] == ["half"]
    result = quote(exclusive, stackable, usage={"half": p.LimitUsage(sold=1)})
    assert [a.code for a in result.applied] == ["ten"]
    assert [(r.code, r.reason) for r in result.rejected] == [("half", "sold_out")]


def test_a_typed_code_is_rejected_as_typed_and_walk_ins_skip_per_member_offers():
    code = p.Promotion(
        code="TEA99", kind="code", benefit=FLASH.benefit, limits=p.Limits(per_member=1)
    )
    used = {"TEA99": p.LimitUsage(member=1)}
    assert [(r.code, r.reason) for r in quote(code, usage=used, codes=("tea-99",)).rejected] == [
        ("tea-99", "limit_reached")
    ]
    walk_in = quote(FLASH, member=None)
    assert walk_in.applied == () and walk_in.rejected == ()
    assert [(r.code, r.reason) for r in quote(code, member=None, codes=("TEA99",)).rejected] == [
        ("TEA99", "members_only")
    ]
    total_only = p.Promotion(
        code="open", kind="automatic", benefit=FLASH.benefit, limits=p.Limits(total=5)
    )
    assert [a.code for a in quote(total_only, member=None).applied] == ["open"]
