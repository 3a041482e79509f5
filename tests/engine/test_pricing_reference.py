"""The tuned engine against the plain one (reference_pricing.py): equal quotes, or the same
error, on random sales. Both builds of the tuned engine are compared when the compiled one is
in use (tests/engine/engines.py): the compiled and the pure-Python one.

`quote` prepares each promotion once and caches it by the promotion's identity, so every sale
is quoted three ways: cold (fresh promotion objects, nothing cached), warm (the same objects
again, from the cache) and under a rebuilt Program around the same promotions (what the sales
app does for each sale). `repr` is compared too: it tells 1 from True, which == does not.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patron.engine.points import EarnRule
from patron.engine.pricing import (
    Basket,
    Benefit,
    Condition,
    Line,
    MemberContext,
    Program,
    Promotion,
    Quote,
    Tier,
)
from tests.engine import reference_pricing
from tests.engine.builders import NOW, basket, benefit, line, member, program, promo
from tests.engine.engines import MONEY, PRICING
from tests.engine.strategies import Sale, sales

engines = pytest.mark.parametrize("engine", PRICING.values(), ids=PRICING.keys())
moneys = pytest.mark.parametrize("money", MONEY.values(), ids=MONEY.keys())

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def outcome(run, *args) -> Quote | tuple[str, str]:
    try:
        return run(*args)
    except Exception as error:  # noqa: BLE001 - the same error is part of the same result
        return (type(error).__name__, str(error))


def assert_same(fast, plain) -> None:
    assert fast == plain
    assert repr(fast) == repr(plain)


def check(engine: ModuleType, sale: Sale) -> None:
    quote = engine.quote
    plain = outcome(reference_pricing.quote, sale.basket, sale.member, sale.program, sale.now)
    # Cold: copies share no identity with anything quoted before.
    cold_program = copy.deepcopy(sale.program)
    cold_member = copy.deepcopy(sale.member)
    assert_same(outcome(quote, sale.basket, cold_member, cold_program, sale.now), plain)
    # Warm: the same objects again, now from the cache.
    assert_same(outcome(quote, sale.basket, cold_member, cold_program, sale.now), plain)
    # A new Program around the same promotions, as the sales app builds for each sale.
    rebuilt = dataclasses.replace(cold_program, promotions=tuple(cold_program.promotions))
    assert_same(outcome(quote, sale.basket, cold_member, rebuilt, sale.now), plain)


@engines
@PROPERTY
@given(sale=sales())
def test_the_tuned_engine_quotes_as_the_plain_one(engine: ModuleType, sale: Sale):
    check(engine, sale)


@engines
@PROPERTY
@given(sale=sales(whole_order=True))
def test_the_tuned_engine_quotes_as_the_plain_one_on_whole_order_benefits(
    engine: ModuleType, sale: Sale
):
    check(engine, sale)


@engines
@settings(PROPERTY, max_examples=60)
@given(sale=sales(), split=st.sampled_from([0, 1, 2, 3, 6, 12]))
def test_a_later_sale_with_other_lines_gets_no_stale_scope(
    engine: ModuleType, sale: Sale, split: int
):
    """Promotions are cached, scopes are not: the same program on another basket."""
    lines = sale.basket.lines
    other = dataclasses.replace(sale.basket, lines=lines[split:] or lines[:1])
    for basket_ in (sale.basket, other):
        args = (basket_, sale.member, sale.program, sale.now)
        assert_same(outcome(engine.quote, *args), outcome(reference_pricing.quote, *args))


@moneys
@settings(PROPERTY, max_examples=300)
@given(
    total=st.integers(0, 10**6),
    weights=st.lists(st.integers(0, 10**5) | st.integers(0, 3), min_size=1, max_size=12),
    equal=st.booleans(),
    rng=st.randoms(use_true_random=False),
)
def test_allocate_matches_the_plain_largest_remainder(money, total, weights, equal, rng):
    if equal:
        weights = [weights[0]] * len(weights)
    ranks = list(range(len(weights)))
    rng.shuffle(ranks)
    for given_ranks in (ranks, None):
        fast = outcome(money.allocate, total, weights, given_ranks)
        plain = outcome(reference_pricing.allocate, total, weights, given_ranks)
        assert fast == plain


@moneys
@pytest.mark.parametrize(
    "weights", [[-1], [5, -1], [0, 0], [3, 3, -3], [7], [0], [2, 2, 2], [4, 0, 4]]
)
@pytest.mark.parametrize("total", [0, 1, 5, 7])
def test_allocate_edges_match(money, total, weights):
    fast = outcome(money.allocate, total, weights)
    assert fast == outcome(reference_pricing.allocate, total, weights)


@engines
def test_a_promotion_seen_again_after_its_twin_died_is_prepared_anew(engine: ModuleType):
    """The cache keys on identity: a new object at a dead one's address must not get its
    rule. Build, quote and drop many programs whose promotions differ only in amount."""
    for value in range(1, 200):
        rules = program(promo("P", benefit("fixed", value)))
        result = engine.quote(basket(line("TEA", "drinks", 1, 1000)), member(), rules, NOW)
        assert [a.amount for a in result.applied] == [value]


@engines
def test_program_with_an_unknown_benefit_fails_only_when_it_would_apply(engine: ModuleType):
    quote = engine.quote
    held_back = promo("X", benefit("mystery", 5), stores={"S9"})
    ok = quote(basket(line("TEA", "drinks", 1, 1000)), member(), program(held_back), NOW)
    assert ok.applied == ()
    with pytest.raises(ValueError, match="unknown benefit type"):
        quote(
            basket(line("TEA", "drinks", 1, 1000)),
            member(),
            program(promo("X", held_back.benefit)),
            NOW,
        )


@engines
def test_same_wall_clock_window_edge_in_the_merchants_zone(engine: ModuleType):
    """A window edge in the merchant's own zone compares as the plain engine compares it."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("America/Los_Angeles")
    # 2027-11-07 01:30 happens twice in Los Angeles; fold=1 is the later one.
    edge = dt.datetime(2027, 11, 7, 1, 45, tzinfo=zone)
    rules = Program(
        timezone="America/Los_Angeles",
        promotions=(promo("W", benefit("percent", 10), starts_at=edge),),
    )
    for fold in (0, 1):
        now = dt.datetime(2027, 11, 7, 1, 30, fold=fold, tzinfo=zone)
        args = (basket(line("TEA", "drinks", 1, 1000)), member(), rules, now)
        assert_same(outcome(engine.quote, *args), outcome(reference_pricing.quote, *args))


@engines
def test_sets_lists_and_truthy_flags_where_the_hints_say_frozenset_tuple_bool(engine: ModuleType):
    """Compiled code checks a value against its hint where it reads it; the engine reads the
    containers and flags of its inputs loosely, so a set for a frozenset, a list for a tuple
    and 1 for True quote as they always did (ints and strs must be ints and strs)."""
    promotion = Promotion(
        "P",
        "automatic",
        Benefit("percent", 10, skus={"TEA"}),
        Condition(weekdays={2}, stores={"S1"}, tiers={"t"}, skus={"TEA"}, first_purchase=1),
        members_only=1,
    )
    args = (
        Basket("S1", [Line("TEA", "drinks", 3, 1000)], codes=["NOPE"]),
        MemberContext(member_id="m", tier="t", first_purchase=1),
        Program(
            promotions=[promotion],
            tiers=[Tier("t")],
            earn=EarnRule(per_amount=100),
            earn_exclude_categories={"food"},
        ),
        NOW,
    )
    result = outcome(engine.quote, *args)
    assert_same(result, outcome(reference_pricing.quote, *args))
    assert isinstance(result, Quote) and [a.amount for a in result.applied] == [300]
