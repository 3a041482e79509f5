"""Alliance arithmetic: rates both ways, whole numbers only, values half-up, statements that
balance."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patron.engine import alliances
from patron.engine.alliances import (
    PARTNER,
    PROPOSER,
    TO_PARTNER,
    TO_PROPOSER,
    Exchange,
    NotWhole,
    PointValue,
    Rate,
    convert,
    statement,
    value_of,
)

sides = st.integers(min_value=1, max_value=10_000)
rates = st.builds(Rate, sides, sides)
directions = st.sampled_from(alliances.DIRECTIONS)


def test_a_hand_worked_rate():
    rate = Rate(100, 80)  # 100 of the proposer's points = 80 of the partner's
    assert convert(rate, TO_PARTNER, 500) == 400
    assert convert(rate, TO_PROPOSER, 400) == 500
    assert rate.step(TO_PARTNER) == 5 and rate.step(TO_PROPOSER) == 4
    with pytest.raises(NotWhole) as refused:
        convert(rate, TO_PARTNER, 123)
    assert (refused.value.below, refused.value.above) == (120, 125)
    with pytest.raises(NotWhole) as refused:
        convert(rate, TO_PROPOSER, 3)
    assert (refused.value.below, refused.value.above) == (0, 4)


def test_bad_rates_and_values_are_refused():
    for points, partner_points in ((0, 80), (100, 0), (-1, 5)):
        with pytest.raises(ValueError):
            Rate(points, partner_points)
    with pytest.raises(ValueError):
        PointValue(0, 100)
    with pytest.raises(ValueError):
        convert(Rate(1, 1), TO_PARTNER, 0)


def test_values_round_half_up_to_the_fen():
    assert value_of(PointValue(), 80) == 80
    assert value_of(PointValue(3, 1), 1) == 0  # 0.33 fen
    assert value_of(PointValue(2, 1), 1) == 1  # 0.5 fen: up
    assert value_of(PointValue(3, 2), 1) == 1  # 0.67 fen


@given(rates, directions, st.integers(min_value=1, max_value=10**7))
def test_conversion_is_whole_or_refused_with_the_nearest_valid_numbers(rate, direction, points):
    given_side, received_side = rate.sides(direction)
    try:
        received = convert(rate, direction, points)
    except NotWhole as refused:
        assert points * received_side % given_side != 0
        assert refused.below < points < refused.above
        assert refused.above - refused.below == rate.step(direction)
        for valid in (refused.below, refused.above):
            assert valid % rate.step(direction) == 0
            if valid:
                convert(rate, direction, valid)  # converts
    else:
        assert received * given_side == points * received_side


@given(rates, directions, st.integers(min_value=1, max_value=10**5))
def test_a_conversion_and_its_inverse_give_the_points_back(rate, direction, units):
    points = units * rate.step(direction)
    received = convert(rate, direction, points)
    back = TO_PROPOSER if direction == TO_PARTNER else TO_PARTNER
    assert convert(rate, back, received) == points


exchanges = st.lists(
    st.builds(
        Exchange,
        directions,
        st.integers(min_value=1, max_value=10**6),
        st.integers(min_value=1, max_value=10**6),
        st.integers(min_value=0, max_value=10**6),
    ),
    max_size=30,
)


@given(exchanges)
def test_a_statement_balances_and_names_who_pays(moves):
    found = statement(moves)
    assert sum(found.net.values()) == 0
    assert found.amount == abs(found.net[PROPOSER])
    by_source = {row.source: row for row in found.rows}
    for side, direction in ((PROPOSER, TO_PARTNER), (PARTNER, TO_PROPOSER)):
        mine = [m for m in moves if m.direction == direction]
        assert by_source[side].points_out == sum(m.points_out for m in mine)
        assert by_source[side].points_in == sum(m.points_in for m in mine)
        assert by_source[side].amount == sum(m.amount for m in mine)
        assert by_source[side].exchanges == len(mine)
    if found.amount:
        assert found.net[found.payer] == -found.amount
        assert found.net[found.payee] == found.amount
    else:
        assert found.payer is None and found.payee is None


def test_a_hand_worked_statement():
    found = statement(
        [
            Exchange(TO_PARTNER, 500, 400, 400),
            Exchange(TO_PARTNER, 100, 80, 80),
            Exchange(TO_PROPOSER, 80, 100, 100),
        ]
    )
    assert found.payer == PROPOSER and found.payee == PARTNER and found.amount == 380
    assert found.net == {PROPOSER: -380, PARTNER: 380}
