"""A referrer's monthly cap on PostgreSQL: their friends' first sales commit at once, and no
more than `monthly_cap` of them reward the referrer."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection

from patron.activities.models import ReferralReward
from patron.ledger import selectors as ledger_selectors
from patron.ledger.selectors import reconcile
from patron.members.services import register_member
from patron.program.services import apply_program
from patron.sales.services import LineInput, SaleRequest, commit_sale
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant
from tests.activities.test_checkin_concurrency import RACERS, race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
CAP = 3


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency needs PostgreSQL (run with PATRON_TEST_POSTGRES)")


def test_first_sales_at_once_respect_the_cap(system, stores):
    apply_program(
        system,
        {
            "categories": ["drinks"],
            "referral": {"referrer_points": 100, "monthly_cap": CAP},
        },
    )
    referrer = register_member(system, {"mobile": "13900005000", "store": "S1"})
    friends = [
        register_member(
            system,
            {"mobile": f"1390000510{n}", "store": "S1", "referrer_code": referrer.referral_code},
        ).pk
        for n in range(RACERS)
    ]
    merchant_id = system.merchant.pk
    queue = list(friends)

    def first_sale() -> str:
        actor = Actor.system(Merchant.objects.get(pk=merchant_id))
        member_id = queue.pop()
        line = LineInput(sku="TEA", category="drinks", quantity=1, unit_price=1000)
        request = SaleRequest(lines=[line], member=member_id, store="S1")
        commit_sale(actor, request, key=f"first-{member_id}")
        return "ok"

    assert Counter(race(first_sale)) == {"ok": RACERS}
    statuses = Counter(ReferralReward.objects.values_list("status", flat=True))
    assert statuses == {"rewarded": CAP, "capped": RACERS - CAP}
    assert ledger_selectors.member_balances(referrer)["points"]["available"] == 100 * CAP
    assert reconcile() == []
