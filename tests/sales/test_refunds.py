"""Refunds (F-23): proportional, never beyond what was sold, nothing negative unexplained."""

from __future__ import annotations

import pytest
from django.test import Client

from patron.ledger import selectors as ledger_selectors
from patron.ledger import services as ledger
from patron.ledger.models import PointsHold, Shortfall
from patron.ledger.selectors import reconcile
from patron.promotions.models import Coupon
from patron.promotions.services import issue_coupon
from patron.sales.models import MemberStats, Sale
from tests.ledger.conftest import set_points_policy
from tests.sales.conftest import BASKET

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def post(client: Client, path: str, body: dict, **headers):
    return client.post(path, body, content_type="application/json", headers=headers)


def balances(member) -> tuple[int, int]:
    figures = ledger_selectors.member_balances(member)
    return figures["points"]["available"], figures["stored_value"]["total"]


@pytest.fixture
def big_sale(api, gold):
    """The hand-worked basket of test_checkout.TestTheFullBasket: total 24940, stored value
    10000, 3000 points redeemed (738 fen of them on the dishes line), 374 points earned spread
    262 / 92 / 20 over the lines (weights 17445*1.5, 6132*1.5, 1363*1.5)."""
    body = {
        "member": gold.pk,
        "store": "S1",
        "lines": BASKET,
        "codes": ["SPRING10"],
        "points_to_redeem": 3000,
        "stored_value": 10000,
    }
    response = post(api, "/api/v1/sales", body)
    assert response.status_code == 201, response.content
    return response.json()


def test_refunding_one_of_two_dishes_returns_its_share(api, gold, big_sale):
    assert [line["points_earned"] for line in big_sale["lines"]] == [262, 92, 20]
    response = post(
        api,
        f"/api/v1/sales/{big_sale['id']}/refunds",
        {"lines": [{"sku": "DISH-FISH", "quantity": 1}]},
    )
    assert response.status_code == 201, response.content
    refund = response.json()
    # dish line total 6132 / 2 = 3066 back; stored value 10000 * 3066 / 24940 = 1229.35 -> 1229,
    # cash 3066 - 1229 = 1837; points offset 738 / 2 = 369 -> 369 points back;
    # earned 92 / 2 = 46 points taken back
    assert (refund["amount"], refund["stored_value_returned"], refund["cash_refunded"]) == (
        3066,
        1229,
        1837,
    )
    assert (refund["points_returned"], refund["points_reversed"], refund["points_shortfall"]) == (
        369,
        46,
        0,
    )
    assert refund["sale_status"] == "partly_refunded"
    assert balances(gold) == (5000 - 3000 + 374 + 369 - 46, 1229)
    assert reconcile() == []


def test_refunding_the_rest_returns_exactly_everything(api, gold, big_sale):
    sale_id = big_sale["id"]
    post(api, f"/api/v1/sales/{sale_id}/refunds", {"lines": [{"sku": "DISH-FISH", "quantity": 1}]})
    rest = post(api, f"/api/v1/sales/{sale_id}/refunds", {"all": True}).json()
    # 24940 - 3066 = 21874; stored value 10000 - 1229 = 8771; points 3000 - 369; earned 374 - 46
    assert (rest["amount"], rest["stored_value_returned"]) == (21874, 8771)
    assert (rest["points_returned"], rest["points_reversed"]) == (2631, 328)
    assert rest["sale_status"] == "refunded"
    assert balances(gold) == (5000, 10000)
    stats = MemberStats.objects.get(member=gold)
    assert (stats.total_spend, stats.refunds) == (0, 2)
    assert reconcile() == []


def test_a_sale_cannot_be_refunded_beyond_what_was_sold(api, gold, big_sale):
    path = f"/api/v1/sales/{big_sale['id']}/refunds"
    too_many = post(api, path, {"lines": [{"sku": "DISH-FISH", "quantity": 3}]})
    assert too_many.status_code == 422 and too_many.json()["code"] == "refund_exceeds_sale"
    unknown = post(api, path, {"lines": [{"sku": "NOT-SOLD", "quantity": 1}]})
    assert unknown.status_code == 422
    zero = post(api, path, {"lines": [{"sku": "DISH-FISH", "quantity": 0}]})
    assert zero.status_code == 422
    assert post(api, path, {"all": True}).status_code == 201
    again = post(api, path, {"all": True})
    assert again.status_code == 422 and again.json()["code"] == "refund_exceeds_sale"
    assert reconcile() == []


def test_earned_points_already_spent_become_a_recorded_shortfall(api, system, gold, big_sale):
    # the member spends everything they hold (2374) before returning the goods
    ledger.spend_points(system, gold, 2374, key="spent-elsewhere")
    refund = post(api, f"/api/v1/sales/{big_sale['id']}/refunds", {"all": True}).json()
    # the 3000 redeemed points come back first, then the 374 earned are taken from them
    assert refund["points_returned"] == 3000
    assert refund["points_reversed"] + refund["points_shortfall"] == 374
    assert balances(gold)[0] >= 0
    assert reconcile() == []


def test_shortfall_when_nothing_is_left_to_take(api, system, gold, program):
    body = {"member": gold.pk, "store": "S1", "lines": BASKET}
    sale = post(api, "/api/v1/sales", body).json()
    # 31600 * 1.5 / 100 = 474 earned; the member then spends all 5474 points
    ledger.spend_points(system, gold, 5474, key="all-gone")
    refund = post(api, f"/api/v1/sales/{sale['id']}/refunds", {"all": True}).json()
    assert (refund["points_reversed"], refund["points_shortfall"]) == (0, 474)
    assert Shortfall.objects.get(member=gold).amount == 474
    assert balances(gold)[0] == 0
    assert reconcile() == []


def test_a_used_coupon_comes_back_on_a_full_refund_only(api, system, gold):
    coupon = issue_coupon(system, gold, "cash20")
    body = {"member": gold.pk, "store": "S1", "lines": BASKET, "codes": [coupon.code]}
    sale = post(api, "/api/v1/sales", body).json()
    path = f"/api/v1/sales/{sale['id']}/refunds"
    partial = post(api, path, {"lines": [{"sku": "TEA-LJ", "quantity": 1}]}).json()
    assert partial["coupons_returned"] == []
    assert Coupon.objects.get(pk=coupon.pk).status == "used"
    full = post(api, path, {"all": True}).json()
    assert full["coupons_returned"] == [coupon.code]
    assert Coupon.objects.get(pk=coupon.pk).status == "available"


def test_pending_points_are_cut_from_the_hold(api, system, gold):
    set_points_policy(
        system.merchant,
        earn={"per_amount": 100, "points": 1},
        redeem_cash={"points": 100, "value": 100, "max_share_percent": 50},
        pending_days=7,
    )
    from patron.promotions.selectors import forget_program

    forget_program()
    body = {"member": gold.pk, "store": "S1", "lines": BASKET}
    sale = post(api, "/api/v1/sales", body).json()
    assert sale["points_pending"] is True
    hold = PointsHold.objects.get(member=gold)
    assert hold.points == 474
    post(api, f"/api/v1/sales/{sale['id']}/refunds", {"lines": [{"sku": "TEA-LJ", "quantity": 1}]})
    hold.refresh_from_db()
    # tea line: 2000 - its man300 share; its earned points leave the hold
    assert hold.points < 474 and hold.status == "pending"
    post(api, f"/api/v1/sales/{sale['id']}/refunds", {"all": True})
    hold.refresh_from_db()
    assert hold.status == "voided"
    assert reconcile() == []


def test_refund_is_idempotent_per_key(api, gold, big_sale):
    path = f"/api/v1/sales/{big_sale['id']}/refunds"
    body = {"lines": [{"sku": "TEA-LJ", "quantity": 1}]}
    first = post(api, path, body, **{"Idempotency-Key": "r-1"})
    second = post(api, path, body, **{"Idempotency-Key": "r-1"})
    assert first.json() == second.json()
    assert Sale.objects.get().lines.get(sku="TEA-LJ").refunded_quantity == 1


def test_another_merchants_sale_is_not_found(other_api, big_sale):
    response = post(other_api, f"/api/v1/sales/{big_sale['id']}/refunds", {"all": True})
    assert response.status_code == 404
