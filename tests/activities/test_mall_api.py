# ruff: noqa: F811
# (the fixtures imported from mall_support are the tests' parameters)
"""The points-mall API (API.md §11): status codes, problem codes, idempotency, tenancy."""

from __future__ import annotations

import json

import pytest

from patron.activities.models import Redemption
from tests.activities.mall_support import member, new_member, points_of, rewards  # noqa: F401

pytestmark = pytest.mark.django_db


def post(api, path: str, body: dict | None = None, key: str | None = None):
    headers = {"Idempotency-Key": key} if key else {}
    return api.post(
        f"/api/v1{path}", json.dumps(body or {}), content_type="application/json", headers=headers
    )


def test_redeem_answers_201_with_the_contracts_fields(api, member, rewards):
    answer = post(api, f"/members/{member.pk}/redeem", {"reward": "mug", "store": "S1"})
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert {k: body[k] for k in ("reward", "points_spent", "cash_due", "status")} == {
        "reward": "mug",
        "points_spent": 800,
        "cash_due": 990,
        "status": "pending",
    }
    assert Redemption.objects.get(pk=body["id"]).store.code == "S1"


def test_a_coupon_reward_answers_pending_with_its_coupon(api, member, rewards):
    body = post(api, f"/members/{member.pk}/redeem", {"reward": "free_night"}).json()
    assert body["status"] == "pending" and body["coupon"]


def test_refusals_have_their_codes(api, system, member, rewards):
    poor = new_member(system, "13800138009", 10)
    answer = post(api, f"/members/{poor.pk}/redeem", {"reward": "mug"})
    assert (answer.status_code, answer.json()["code"]) == (422, "insufficient_points")
    assert answer["Content-Type"].startswith("application/problem+json")
    answer = post(api, f"/members/{member.pk}/redeem", {"reward": "nope"})
    assert (answer.status_code, answer.json()["code"]) == (404, "reward_not_found")
    for _ in range(2):
        post(api, f"/members/{member.pk}/redeem", {"reward": "free_night"})
    answer = post(api, f"/members/{member.pk}/redeem", {"reward": "free_night"})
    assert (answer.status_code, answer.json()["code"]) == (409, "limit_reached")
    assert Redemption.objects.count() == 2


def test_tenders_pay_the_cash_part(api, member, rewards):
    body = {"reward": "mug", "store": "S1", "tenders": [{"method": "alipay", "amount": 990}]}
    assert post(api, f"/members/{member.pk}/redeem", body).json()["cash_paid"] == 990
    body["tenders"] = [{"method": "alipay", "amount": 500}]
    answer = post(api, f"/members/{member.pk}/redeem", body)
    assert (answer.status_code, answer.json()["code"]) == (422, "tenders_mismatch")


def test_idempotency_key_replays_the_same_redemption(api, member, rewards):
    path = f"/members/{member.pk}/redeem"
    first = post(api, path, {"reward": "mug"}, key="r-1")
    again = post(api, path, {"reward": "mug"}, key="r-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Redemption.objects.count() == 1 and points_of(member) == 10000 - 800
    other = post(api, path, {"reward": "free_night"}, key="r-1")
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_conflict")


def test_fulfil_and_cancel(api, member, rewards):
    shipped = post(api, f"/members/{member.pk}/redeem", {"reward": "mug"}).json()["id"]
    answer = post(api, f"/redemptions/{shipped}/fulfil", {"tracking_no": "SF1"})
    assert (answer.status_code, answer.json()["status"]) == (200, "fulfilled")
    cancelled = post(api, f"/members/{member.pk}/redeem", {"reward": "mug"}).json()["id"]
    answer = post(api, f"/redemptions/{cancelled}/cancel")
    assert (answer.status_code, answer.json()["status"]) == (200, "cancelled")
    assert points_of(member) == 10000 - 800
    answer = post(api, f"/redemptions/{shipped}/cancel")
    assert (answer.status_code, answer.json()["code"]) == (409, "already_fulfilled")


def test_another_merchants_redemption_is_404(api, other_api, member, rewards):
    made = post(api, f"/members/{member.pk}/redeem", {"reward": "mug"}).json()["id"]
    assert post(other_api, f"/redemptions/{made}/cancel").status_code == 404
    assert post(other_api, f"/members/{member.pk}/redeem", {"reward": "mug"}).status_code == 404
