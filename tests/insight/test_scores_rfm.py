"""RFM (F-34): quintiles with ties kept together, hand-worked; the refresh step's scores and
cells; members without a purchase have none."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from patron.insight import rfm
from tests.insight.scores_support import insight, local, member, refresh, sale

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

AS_OF = local(2026, 6, 15, 0, 0)


def days_before(days: int) -> dt.datetime:
    return AS_OF - dt.timedelta(days=days)


def test_quintiles_keep_ties_together_hand_worked():
    # n = 7, score = ceil(5 * rank / 7) with rank "min" (ties take the lowest rank):
    # last_day 10 20 20 30 40 40 50 -> ranks 1 2 2 4 5 5 7 -> R 1 2 2 3 4 4 5
    # visits    1  1  1  2  3  3  5 -> ranks 1 1 1 4 5 5 7 -> F 1 1 1 3 4 4 5
    # spend   100 200 300 300 300 1000 50 -> ranks 2 3 4 4 4 7 1 -> M 2 3 3 3 3 5 1
    members = pl.DataFrame(
        {
            "member_id": [1, 2, 3, 4, 5, 6, 7],
            "last_day": [10, 20, 20, 30, 40, 40, 50],
            "visits": [1, 1, 1, 2, 3, 3, 5],
            "spend": [100, 200, 300, 300, 300, 1000, 50],
        }
    )
    scored = rfm.scores(members)
    assert scored["r"].to_list() == [1, 2, 2, 3, 4, 4, 5]
    assert scored["f"].to_list() == [1, 1, 1, 3, 4, 4, 5]
    assert scored["m"].to_list() == [2, 3, 3, 3, 3, 5, 1]
    assert scored["rfm"].to_list() == ["112", "213", "213", "333", "443", "445", "551"]


def test_everyone_equal_shares_one_score_and_one_member_scores_five():
    same = pl.DataFrame(
        {"member_id": [1, 2, 3, 4, 5, 6], "last_day": [9] * 6, "visits": [2] * 6, "spend": [5] * 6}
    )
    assert set(rfm.scores(same)["rfm"].to_list()) == {"111"}
    alone = pl.DataFrame({"member_id": [1], "last_day": [9], "visits": [1], "spend": [5]})
    assert rfm.scores(alone)["rfm"].to_list() == ["555"]


def test_from_sales_counts_the_window_and_the_last_day_ever():
    lines = pl.DataFrame(
        {
            "member_id": [1, 1, 2, 2, 2, 3],
            "day": [100, 500, 450, 460, 470, 300],
            "amount": [900, 100, 50, 50, 50, 999],
        }
    )
    scored = rfm.from_sales(lines, today=500, window_start=400).sort("member_id")
    # window [400, 500]: member 1 one line of 100, member 2 three of 50, member 3 none.
    assert scored["visits"].to_list() == [1, 3, 0]
    assert scored["spend"].to_list() == [100, 150, 0]
    # n = 3, ranks 1 2 3 -> scores 2 4 5: R by last day 500 470 300, F by 1 3 0, M by 100 150 0.
    assert scored["rfm"].to_list() == ["544", "455", "222"]


def test_the_refresh_scores_buyers_and_leaves_the_others_empty(system, stores):
    ann = member(system, "13700000001", joined=local(2024, 1, 1))
    sale(ann, 1000, days_before(60))
    bob = member(system, "13700000002", joined=local(2024, 1, 1))
    sale(bob, 500, days_before(10))
    sale(bob, 500, days_before(5))
    cat = member(system, "13700000003", joined=local(2024, 1, 1))
    sale(cat, 100, days_before(400))  # outside the 12 months: neither F nor M
    sale(cat, 300, days_before(30))
    dan = member(system, "13700000004", joined=local(2024, 1, 1))
    refresh(system.merchant, AS_OF)
    # n = 3. R: ann (60 days) 2, cat (30) 4, bob (5) 5. F: ann 1 and cat 1 tie -> 2, bob 2 -> 5.
    # M: cat 300 -> 2, ann 1000 and bob 1000 tie -> ceil(5 * 2 / 3) = 4.
    assert insight(ann).rfm == "224"
    assert insight(bob).rfm == "554"
    assert insight(cat).rfm == "422"
    found = insight(dan)
    assert (found.r, found.f, found.m, found.rfm) == (None, None, None, "")


def test_quintiles_match_the_rank_formula_on_many_ties():
    # The scores come from four cut values (a partition), not a rank per member: over random
    # columns with many ties and every size up to 60 they equal ceil(5 * rank("min") / n).
    rng = np.random.default_rng(34)
    for n in range(1, 61):
        members = pl.DataFrame(
            {
                "member_id": list(range(n)),
                "last_day": rng.integers(0, 8, n),
                "visits": rng.integers(0, 3, n),
                "spend": rng.integers(0, 10_000, n),
            }
        )
        scored = rfm.scores(members)
        for column, score in (("last_day", "r"), ("visits", "f"), ("spend", "m")):
            rank = members[column].rank(method="min").cast(pl.Int64)
            expected = ((5 * rank + n - 1) // n).to_list()
            assert scored[score].to_list() == expected, (n, column)
