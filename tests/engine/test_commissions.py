"""Staff commissions (patron/engine/commissions.py): the seed's numbers and properties."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from patron.engine.commissions import (
    Facts,
    Rules,
    Step,
    commission,
    ladder_bonus,
    ladder_problems,
    rules_from,
    topup_commission,
)

SEED = {
    "per_card": 800,
    "per_topup": {"every": 50000, "amount": 800},
    "ladder": [{"members": 3, "bonus": 3000}, {"members": 6, "bonus": 8000}],
}
RULES = rules_from(SEED)


def test_the_seed_numbers():
    assert commission(RULES, Facts(cards=1)).amount == 800
    assert topup_commission(RULES, 50000) == 800
    assert topup_commission(RULES, 100000) == 1600
    assert topup_commission(RULES, 49900) == 0
    assert topup_commission(RULES, 99999) == 800
    assert [ladder_bonus(RULES.ladder, n) for n in (0, 2, 3, 5, 6, 7)] == [
        0,
        0,
        3000,
        3000,
        8000,
        8000,
    ]
    month = commission(RULES, Facts(cards=1, topups=(50000, 100000), recruited=6))
    assert month == commission(RULES, Facts(1, (100000, 50000), 6))
    assert (month.card_amount, month.topup_commission, month.ladder_bonus) == (800, 2400, 8000)
    assert (month.cards, month.topup_amount, month.recruited, month.amount) == (
        1,
        150000,
        6,
        11200,
    )


def test_missing_rules_pay_nothing():
    assert commission(rules_from(None), Facts(3, (100000,), 9)).amount == 0
    assert commission(rules_from({"per_card": 500}), Facts(2, (100000,), 9)).amount == 1000


fen = st.integers(min_value=0, max_value=10_000_000)
ladders = st.lists(
    st.tuples(st.integers(1, 50), st.integers(0, 100_000)), max_size=5, unique_by=lambda s: s[0]
).map(lambda rows: tuple(Step(m, b) for m, b in sorted(rows)))
rules = st.builds(
    Rules,
    per_card=st.integers(0, 100_000),
    topup_every=st.integers(1, 1_000_000),
    topup_amount=st.integers(0, 100_000),
    ladder=ladders,
)
facts = st.builds(
    Facts,
    cards=st.integers(0, 1000),
    topups=st.lists(fen, max_size=20).map(tuple),
    recruited=st.integers(0, 100),
)


@given(rules, facts)
def test_amount_is_the_sum_of_its_parts(rules, facts):
    result = commission(rules, facts)
    assert result.amount == result.card_amount + result.topup_commission + result.ladder_bonus
    assert result.card_amount == rules.per_card * facts.cards
    assert result.topup_amount == sum(facts.topups)
    assert min(result.card_amount, result.topup_commission, result.ladder_bonus) >= 0


@given(rules, fen)
def test_topups_pay_whole_steps_only(rules, principal):
    paid = topup_commission(rules, principal)
    steps = paid // rules.topup_amount if rules.topup_amount else 0
    if rules.topup_amount:
        assert paid % rules.topup_amount == 0
        assert steps * rules.topup_every <= principal < (steps + 1) * rules.topup_every
    # a top-up split in two never earns more than in one
    half = principal // 2
    assert topup_commission(rules, half) + topup_commission(rules, principal - half) <= paid


@given(ladders, st.integers(0, 100), st.integers(0, 100))
def test_the_ladder_pays_the_highest_step_reached(ladder, fewer, more):
    fewer, more = sorted((fewer, more))
    reached = [step for step in ladder if step.members <= more]
    assert ladder_bonus(ladder, more) == (
        max(reached, key=lambda s: s.members).bonus if reached else 0
    )
    ascending = all(a.bonus < b.bonus for a, b in zip(ladder, ladder[1:], strict=False))
    if ascending:
        assert ladder_bonus(ladder, fewer) <= ladder_bonus(ladder, more)


def test_ladder_problems():
    assert ladder_problems([(3, 3000), (6, 8000)]) == []
    assert ladder_problems([(3, 3000), (3, 8000)]) == [(1, "members", "repeat")]
    assert ladder_problems([(6, 8000), (3, 3000)]) == [(1, "members", "members_order")]
    assert ladder_problems([(3, 3000), (6, 3000)]) == [(1, "bonus", "bonus_order")]


@given(st.lists(st.tuples(st.integers(1, 20), st.integers(0, 100)), max_size=6))
def test_a_ladder_without_problems_ascends_in_both(steps):
    if not ladder_problems(steps):
        assert all(a[0] < b[0] and a[1] < b[1] for a, b in zip(steps, steps[1:], strict=False))
