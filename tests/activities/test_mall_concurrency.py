"""The last units of a reward redeemed by many members at once, in separate OS processes on
PostgreSQL: exactly as many redemptions as units, each paid once, the ledger reconciled."""

from __future__ import annotations

import pytest
from django.db import connection

from patron.activities import mall
from patron.activities.models import Redemption, Reward
from patron.core.errors import DomainError
from patron.ledger.selectors import reconcile
from patron.members.models import Member
from patron.program.services import apply_program
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant
from tests.activities.mall_support import MUG, new_member, points_of
from tests.sales.test_concurrency import in_processes

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
RACERS = 12


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency needs PostgreSQL (run with PATRON_TEST_POSTGRES)")


def redeem_in_child(merchant_id: int, member_id: int, key: str) -> tuple[str, int | None]:
    actor = Actor.system(Merchant.objects.get(pk=merchant_id))
    member = Member.objects.get(pk=member_id)
    reward = Reward.objects.get(merchant_id=merchant_id, code="mug")
    try:
        return "ok", mall.redeem(actor, member, reward, key=key).pk
    except DomainError as error:
        return error.code, None
    except Exception as error:  # a deadlock or a 500: a failure of the test
        return f"unexpected: {type(error).__name__}: {error}", None


def test_twelve_members_on_the_last_three_units(hq, system):
    apply_program(hq, {"rewards": [{**MUG, "stock": 3}]})
    members = [new_member(system, f"1390000{index:04d}", 1000) for index in range(RACERS)]
    merchant_id = system.merchant.pk

    outcomes = in_processes(
        RACERS, lambda i: [redeem_in_child(merchant_id, members[i].pk, f"race-{i}")]
    )

    codes = sorted(code for code, _ in outcomes)
    assert codes == ["ok"] * 3 + ["out_of_stock"] * (RACERS - 3), outcomes
    assert Reward.objects.get(code="mug").redeemed_count == 3
    winners = {r.member_id for r in Redemption.objects.all()}
    assert len(winners) == 3
    assert sum(points_of(m) for m in members) == RACERS * 1000 - 3 * 800
    assert reconcile(system.merchant) == []
    # A cancel gives a unit back (its row lock taken on PostgreSQL) and the next member gets it.
    mall.cancel(hq, Redemption.objects.first())
    loser = next(m for m in members if m.pk not in winners)
    assert redeem_in_child(merchant_id, loser.pk, "after-cancel")[0] == "ok"
    assert Reward.objects.get(code="mug").redeemed_count == 3


def test_one_member_racing_themself_gets_the_per_member_limit_once(hq, system):
    apply_program(hq, {"rewards": [{**MUG, "per_member": 1}]})
    member = new_member(system, "13900009999", 100000)
    merchant_id = system.merchant.pk

    outcomes = in_processes(
        RACERS, lambda i: [redeem_in_child(merchant_id, member.pk, f"self-{i}")]
    )

    codes = sorted(code for code, _ in outcomes)
    assert codes == ["limit_reached"] * (RACERS - 1) + ["ok"], outcomes
    assert points_of(member) == 100000 - 800
    assert reconcile(system.merchant) == []
