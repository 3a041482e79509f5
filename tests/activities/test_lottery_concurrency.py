"""200 draws racing for a small budget (PostgreSQL only): the budget and a prize's stock are
never exceeded, every draw that lost the race gives `none`, the ledger stays reconciled.

Twenty forked processes, each with its own connection and member, make ten draws each, all
released together (as tests/sales/test_concurrency.py races its tills).
"""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection
from django.db.models import Sum

from patron.activities import lottery as services
from patron.activities.models import Draw, Lottery, LotteryPrize, Outcome
from patron.core.errors import DomainError
from patron.ledger.selectors import reconcile
from patron.members.models import Member
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant
from tests.activities.lottery_support import member_with_points, points_of, set_up, wheel
from tests.sales.test_concurrency import in_processes

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
PROCESSES = 20
DRAWS_EACH = 10
PRIZES = [
    {"code": "p5", "kind": "points", "points": 500, "value": 500, "odds": 60},
    {"code": "c20", "kind": "coupon", "coupon": "c20", "value": 2000, "odds": 20, "stock": 3},
    {"code": "none", "kind": "none", "odds": 20},
]
BUDGET = 12_000  # runs out long before 200 draws


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency needs PostgreSQL (run with PATRON_TEST_POSTGRES)")


def draw_many(merchant_id: int, member_ids: list[int], index: int) -> list[tuple[str, None]]:
    actor = Actor.system(Merchant.objects.get(pk=merchant_id))
    member = Member.objects.get(pk=member_ids[index])
    outcomes = []
    for n in range(DRAWS_EACH):
        try:
            record = services.draw(actor, member, "wheel", key=f"race-{index}-{n}")
            outcomes.append((record.prize_code, None))
        except DomainError as error:
            outcomes.append((error.code, None))
        except Exception as error:  # a deadlock would land here: a failure of the test
            outcomes.append((f"unexpected: {type(error).__name__}: {error}", None))
    return outcomes


def test_the_budget_is_never_exceeded_by_200_concurrent_draws(system, stores):
    set_up(system, wheel(prizes=PRIZES, budget=BUDGET, daily_limit=None, cost_points=10))
    members = [member_with_points(system, f"1370000{i:04d}", 100) for i in range(PROCESSES)]
    ids = [m.pk for m in members]
    merchant_id = system.merchant.pk

    raced = in_processes(PROCESSES, lambda i: draw_many(merchant_id, ids, i), timeout=300)
    outcomes = [code for code, _ in raced]

    assert len(outcomes) == PROCESSES * DRAWS_EACH
    assert not [o for o in outcomes if o not in ("p5", "c20", "none")], Counter(outcomes)
    lottery = Lottery.objects.get(code="wheel")
    given = Draw.objects.filter(outcome=Outcome.GIVEN)
    spent = given.aggregate(total=Sum("value"))["total"]
    assert lottery.spent == spent <= BUDGET
    assert BUDGET - lottery.spent < 500  # it did run out: not even the smallest prize fits
    assert Draw.objects.filter(outcome=Outcome.BUDGET_SPENT).exists()
    assert given.filter(prize_code="c20").count() <= 3
    assert (
        LotteryPrize.objects.get(lottery=lottery, code="c20").given
        == given.filter(prize_code="c20").count()
    )
    assert Counter(outcomes)["p5"] == given.filter(prize_code="p5").count()
    assert Draw.objects.count() == PROCESSES * DRAWS_EACH
    # Every member paid 10 draws and got their points prizes, to the point.
    for member in members:
        won = Draw.objects.filter(member=member, prize_code="p5").count()
        assert points_of(member) == 100 - 10 * DRAWS_EACH + 500 * won
    assert reconcile(system.merchant) == []
    for record in Draw.objects.all():
        assert services.verify(record).matches
