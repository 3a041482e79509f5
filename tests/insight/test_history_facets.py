"""Facets kept current by the sale and the refund, rebuilt in bulk; imported history cannot be
refunded, moves no tier and no shift."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from patron.cards import tiers
from patron.insight import refresh
from patron.insight.history_facets import cycle_and_due, rebuild_facets
from patron.insight.models import MemberFacet
from patron.promotions.models import Tier
from patron.sales.models import Sale
from patron.shifts import selectors as shifts
from tests.insight.history_support import run_import, write_csv
from tests.sales import conftest as sales_fixtures
from tests.sales.conftest import BASKET

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SHANGHAI = ZoneInfo("Asia/Shanghai")
program = sales_fixtures.program  # the hotel-and-restaurant program and its gold member
gold = sales_fixtures.gold


def post(client: Client, path: str, body: dict):
    return client.post(path, body, content_type="application/json")


def facets(member) -> dict[tuple[str, str], MemberFacet]:
    return {(f.kind, f.value): f for f in MemberFacet.objects.filter(member=member)}


def sell(api, member, lines, when: dt.datetime | None = None) -> dict:
    body = {"member": member.pk, "store": "S1", "lines": lines}
    if when is not None:
        body["occurred_at"] = when.isoformat()
    response = post(api, "/api/v1/sales", body)
    assert response.status_code == 201, response.content
    return response.json()


def test_cycle_and_due_by_hand():
    last = dt.datetime(2026, 11, 27, 15, tzinfo=SHANGHAI)
    # 3 distinct days from Nov 3 to Nov 27: 24 days over 2 gaps = every 12 days
    cycle, due = cycle_and_due(dt.date(2026, 11, 3), dt.date(2026, 11, 27), 3, last)
    assert cycle == 12 and due == dt.datetime(2026, 12, 9, 15, tzinfo=SHANGHAI)
    assert cycle_and_due(dt.date(2026, 11, 3), dt.date(2026, 11, 3), 1, last) == (None, None)
    half, _due = cycle_and_due(dt.date(2026, 11, 1), dt.date(2026, 11, 4), 3, last)
    assert half == 1.5


def test_a_live_sale_and_its_refund_move_the_facets(api, gold):
    two_days_ago = timezone.now() - dt.timedelta(days=2)
    sell(api, gold, [BASKET[2]], two_days_ago)  # tea, size 大, 2000
    sale = sell(api, gold, BASKET)  # room 32000, 2 dishes 10000, tea 2000, before discounts
    found = facets(gold)
    tea = found[("category", "drinks")]
    assert (tea.visits, tea.days, tea.quantity) == (2, 2, 2)
    assert tea.cycle_days == pytest.approx(
        (
            timezone.localtime(timezone.now(), SHANGHAI).date()
            - timezone.localtime(two_days_ago, SHANGHAI).date()
        ).days
    )
    assert tea.due_at is not None
    assert found[("size", "大")].visits == 2
    assert found[("sku", "ROOM-STD")].visits == 1
    assert ("colour", "") not in found
    lines = {line["sku"]: line for line in sale["lines"]}
    dishes_spend = found[("category", "dishes")].spend
    assert dishes_spend == lines["DISH-FISH"]["total"]  # what was paid, after discounts
    refund = post(
        api, f"/api/v1/sales/{sale['id']}/refunds", {"lines": [{"sku": "DISH-FISH", "quantity": 1}]}
    )
    assert refund.status_code == 201, refund.content
    dishes = facets(gold)[("category", "dishes")]
    assert dishes.quantity == 1
    assert dishes.spend == dishes_spend - refund.json()["amount"]
    assert dishes.visits == 1  # the purchase happened: visits and dates stay
    # the bulk rebuild agrees with what the sale and the refund kept
    live = {
        key: (f.visits, f.days, f.quantity, f.spend, f.cycle_days)
        for key, f in facets(gold).items()
    }
    rebuild_facets(gold.merchant)
    rebuilt = {
        key: (f.visits, f.days, f.quantity, f.spend, f.cycle_days)
        for key, f in facets(gold).items()
    }
    assert rebuilt == live


def test_a_rebuild_writes_only_what_differs(api, gold):
    sell(api, gold, [BASKET[2]], timezone.now() - dt.timedelta(days=3))
    sell(api, gold, BASKET)
    rebuild_facets(gold.merchant)
    before = {key: f.pk for key, f in facets(gold).items()}
    # A row gone wrong (a back-dated sale counted as a new day, say) and a stray row.
    MemberFacet.objects.filter(pk=before[("category", "drinks")]).update(days=9, spend=1)
    MemberFacet.objects.create(
        member=gold,
        merchant=gold.merchant,
        kind="sku",
        value="GONE",
        visits=1,
        quantity=1,
        spend=100,
        first_at=timezone.now(),
        last_at=timezone.now(),
        days=1,
    )
    rebuild_facets(gold.merchant)
    after = facets(gold)
    assert set(after) == set(before)  # the stray row is gone
    tea = after[("category", "drinks")]
    assert tea.days == 2 and tea.spend > 1 and tea.pk != before[("category", "drinks")]
    # every other row was equal, so it is the same row, untouched
    unchanged = {key: pk for key, pk in before.items() if key != ("category", "drinks")}
    assert {key: after[key].pk for key in unchanged} == unchanged


def test_facets_is_a_refresh_step_after_stats():
    names = [(step.name, step.order) for step in refresh.steps()]
    assert ("facets", 15) in names


def test_imported_history_cannot_be_refunded(api, gold, tmp_path):
    rows = [[gold.mobile, "2025-06-01", "S1", "TEA-LJ", "drinks", 1, 2000]]
    assert run_import(write_csv(tmp_path / "h.csv", rows))[0] == 0
    sale = Sale.objects.get(member=gold, channel="import")
    response = post(api, f"/api/v1/sales/{sale.pk}/refunds", {"all": True})
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "imported_sale_not_refundable"
    assert not sale.refunds.exists()


def test_imported_history_moves_no_tier(system, gold, tmp_path):
    Tier.objects.filter(code="silver").update(upgrade_when={"spend_12m": 10000}, keep_when={})
    Tier.objects.filter(code="gold").update(upgrade_when={"spend_12m": 900000}, keep_when={})
    gold.tier = None
    gold.save(update_fields=["tier"])
    recent = (timezone.localtime(timezone.now(), SHANGHAI) - dt.timedelta(days=10)).date()
    rows = [[gold.mobile, recent.isoformat(), "S1", "ROOM-STD", "rooms", 1, 500000]]
    assert run_import(write_csv(tmp_path / "h.csv", rows))[0] == 0
    assert tiers.member_facts(gold)["spend_12m"] == 0
    tiers.review(system.merchant)
    gold.refresh_from_db()
    assert gold.tier is None


def test_no_shift_counts_imported_history(hq, cashier, gold, stores, tmp_path):
    start = timezone.now() - dt.timedelta(hours=1)
    rows = [[gold.mobile, "2025-06-01", "S1", "TEA-LJ", "drinks", 1, 2000]]
    assert run_import(write_csv(tmp_path / "h.csv", rows))[0] == 0
    for actor in (hq, cashier):
        found = shifts.figures(gold.merchant, stores["S1"], actor.user, start)
        assert found.sales_count == 0
