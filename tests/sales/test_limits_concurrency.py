"""A flash sale racing on PostgreSQL (API.md §11): many tills commit at the same moment and a
promotion's `limits` are never exceeded; every loser still buys, at the price without it."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection

from patron.ledger.selectors import reconcile
from patron.members.services import register_member
from patron.program.services import apply_program
from patron.promotions.models import LimitTake, Promotion, PromotionStock, PromotionUse
from patron.sales.models import Sale, SaleDiscount
from patron.sales.services import RefundAsk, refund_sale
from tests.sales.conftest import PROGRAM
from tests.sales.test_concurrency import in_processes, sell

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# The case: 500 buyers (10 tills of 50) for 100 units, one each.
PROCESSES, BUYERS_EACH, UNITS = 10, 50, 100
TEA = {"sku": "TEA-LJ", "category": "drinks", "quantity": 1, "unit_price": 2000}
FLASH = {
    "code": "flash-tea",
    "name": "龙井秒杀",
    "kind": "automatic",
    "benefit": {"type": "fixed_price", "value": 990, "skus": ["TEA-LJ"]},
    "limits": {"total": UNITS, "per_member": 1},
}


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency needs PostgreSQL (run with PATRON_TEST_POSTGRES)")


@pytest.fixture
def flash(system, stores):
    apply_program(system, {**PROGRAM, "promotions": [*PROGRAM["promotions"], FLASH]})
    return Promotion.objects.get(code="flash-tea")


def buyers(system, count: int) -> list[int]:
    return [
        register_member(system, {"mobile": f"1390014{n:04d}", "store": "S1"}).pk
        for n in range(count)
    ]


def applied_per_member() -> Counter:
    return Counter(
        SaleDiscount.objects.filter(code="flash-tea").values_list("sale__member_id", flat=True)
    )


def test_five_hundred_buyers_at_once_get_exactly_a_hundred_units_none_twice(system, flash):
    members = buyers(system, PROCESSES * BUYERS_EACH)
    merchant_id = system.merchant.pk

    def till(index: int):
        mine = members[index * BUYERS_EACH : (index + 1) * BUYERS_EACH]
        return [
            sell(merchant_id, {"member": member, "lines": [TEA]}, key=f"t{index}-{member}")
            for member in mine
        ]

    outcomes = in_processes(PROCESSES, till)

    assert Counter(code for code, _ in outcomes) == {"ok": len(members)}, outcomes
    per_member = applied_per_member()
    assert sum(per_member.values()) == UNITS
    assert max(per_member.values()) == 1
    assert PromotionStock.objects.get(promotion=flash).sold == UNITS
    assert sorted(Sale.objects.values_list("total", flat=True)) == sorted(
        [990] * UNITS + [2000] * (len(members) - UNITS)
    )
    assert sum(LimitTake.objects.values_list("units", flat=True)) == UNITS
    assert set(PromotionUse.objects.filter(period="all").values_list("used", flat=True)) == {1}
    assert reconcile(system.merchant) == []

    # A refund gives its unit back: the next buyer gets it, and only one buyer.
    lucky = Sale.objects.filter(discounts__code="flash-tea").first()
    refund_sale(system, lucky, RefundAsk(all=True))
    assert PromotionStock.objects.get(promotion=flash).sold == UNITS - 1
    latecomers = buyers_after(system, 8)
    later = in_processes(
        8,
        lambda i: [sell(merchant_id, {"member": latecomers[i], "lines": [TEA]}, key=f"late-{i}")],
    )
    assert [code for code, _ in later] == ["ok"] * 8
    assert sum(1 for member in latecomers if applied_per_member()[member]) == 1
    assert PromotionStock.objects.get(promotion=flash).sold == UNITS
    assert reconcile(system.merchant) == []


def buyers_after(system, count: int) -> list[int]:
    return [
        register_member(system, {"mobile": f"1390015{n:04d}", "store": "S1"}).pk
        for n in range(count)
    ]


def test_one_member_at_eight_tills_takes_one_unit(system, flash):
    member = buyers(system, 1)[0]
    merchant_id = system.merchant.pk

    outcomes = in_processes(
        8, lambda i: [sell(merchant_id, {"member": member, "lines": [TEA]}, key=f"till-{i}")]
    )

    assert [code for code, _ in outcomes] == ["ok"] * 8, outcomes
    assert applied_per_member() == {member: 1}
    assert PromotionStock.objects.get(promotion=flash).sold == 1
    assert PromotionUse.objects.get(member_id=member, period="all").used == 1
