"""An agreement unit's member prices at checkout: per category the better of the tier's
discount and the unit's, in quotes and sales like tier prices (docs/enrolment.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from patron.cards.units import save_unit
from patron.ledger.selectors import reconcile
from patron.members.models import Member
from patron.members.services import register_member
from patron.program.services import apply_program
from patron.promotions.models import Tier
from tests.sales.conftest import BASKET, PROGRAM

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# BASKET: 1 room at 320, 2 dishes at 50, 1 tea at 20 yuan (440 yuan).


def post(client: Client, path: str, body: dict):
    return client.post(path, body, content_type="application/json")


@pytest.fixture
def program(system, stores):
    apply_program(system, PROGRAM)


@pytest.fixture
def unit(system, program):
    unit, _created = save_unit(
        system, "ALI", {"name": "阿里巴巴", "discount": {"rooms": 85, "*": 95}}
    )
    return unit


def member_under(system, unit, mobile="13900139000", tier=None):
    member = register_member(system, {"mobile": mobile, "store": "S1", "agreement_unit": unit.code})
    if tier:
        # Straight onto the row: the tier's own service is the tiers part's to test.
        Member.objects.filter(pk=member.pk).update(tier=Tier.objects.get(code=tier))
    return member


def quote(api: Client, member) -> dict:
    answer = post(api, "/api/v1/sales/quote", {"member": member.pk, "store": "S1", "lines": BASKET})
    assert answer.status_code == 200, answer.content
    return answer.json()


class TestUnitPrices:
    def test_a_normal_member_under_the_unit_pays_the_unit_prices(self, api, system, unit):
        got = quote(api, member_under(system, unit))
        # rooms 85 %: 27200; dishes and tea by "*" 95 %: 4750 and 1900.
        assert [line["member_price"] for line in got["lines"]] == [27200, 4750, 1900]
        assert got["member_discount"] == 32000 - 27200 + 2 * 250 + 100

    def test_the_better_of_tier_and_unit_per_category(self, api, system, unit):
        # gold: rooms 80 %, dishes 90 %; unit: rooms 85 %, the rest 95 %.
        got = quote(api, member_under(system, unit, tier="gold"))
        assert [line["member_price"] for line in got["lines"]] == [25600, 4500, 1900]

    def test_a_sale_records_the_unit_prices(self, api, system, unit):
        member = member_under(system, unit)
        answer = post(api, "/api/v1/sales", {"member": member.pk, "store": "S1", "lines": BASKET})
        assert answer.status_code == 201, answer.content
        assert [line["member_price"] for line in answer.json()["lines"]] == [27200, 4750, 1900]
        assert reconcile(system.merchant) == []

    def test_an_expired_or_inactive_unit_gives_nothing(self, api, system, unit):
        member = member_under(system, unit)
        save_unit(system, "ALI", {"valid_until": dt.date(2020, 1, 1)})
        assert quote(api, member)["member_discount"] == 0
        save_unit(system, "ALI", {"valid_until": None, "is_active": False})
        assert quote(api, member)["member_discount"] == 0

    def test_a_walk_in_gets_no_unit_price(self, api, unit):
        body = {"store": "S1", "lines": BASKET}
        assert post(api, "/api/v1/sales/quote", body).json()["member_discount"] == 0

    def test_rounding_is_half_up_to_the_fen(self, api, system, program):
        save_unit(system, "ODD", {"name": "单位", "discount": {"drinks": 85}})
        member = register_member(system, {"mobile": "13900139000", "agreement_unit": "ODD"})
        line = {"sku": "TEA", "category": "drinks", "quantity": 1, "unit_price": 1111}
        body = {"member": member.pk, "store": "S1", "lines": [line]}
        got = post(api, "/api/v1/sales/quote", body).json()
        assert got["lines"][0]["member_price"] == 944  # 944.35

    def test_a_member_without_a_unit_costs_no_statement(self, api, system, unit):
        plain = register_member(system, {"mobile": "13900139001", "store": "S1"})
        under = member_under(system, unit)
        quote(api, plain)  # the program's rules are cached after the first quote
        with CaptureQueriesContext(connection) as without:
            quote(api, plain)
        with CaptureQueriesContext(connection) as with_unit:
            quote(api, under)
        assert not any("agreementunit" in q["sql"] for q in without.captured_queries)
        assert len(with_unit.captured_queries) == len(without.captured_queries) + 1
