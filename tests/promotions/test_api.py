"""Coupons, tiers and promotions over the REST API (API.md §3)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from patron.promotions.models import Coupon, CouponTemplate
from patron.tenancy.models import AuditEntry

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
MOMENTS = ("valid_from", "valid_until", "issued_at")


def post(client: Client, path: str, body: dict, **headers):
    return client.post(path, body, content_type="application/json", headers=headers)


def put(client: Client, path: str, body: dict, **headers):
    return client.put(path, body, content_type="application/json", headers=headers)


def test_issue_a_coupon(api, member):
    response = post(api, f"/api/v1/members/{member.pk}/coupons", {"template": "room_night"})
    assert response.status_code == 201
    body = response.json()
    coupon = Coupon.objects.get(code=body["code"])
    moments = {key: dt.datetime.fromisoformat(body.pop(key)) for key in MOMENTS}
    # The JSON renderer writes milliseconds.
    assert all(abs(moments[k] - getattr(coupon, k)) < dt.timedelta(milliseconds=1) for k in MOMENTS)
    assert body == {
        "code": coupon.code,
        "template": "room_night",
        "name": "免费房券",
        "member": member.pk,
        "status": "available",
        "used_at": None,
    }
    assert coupon.channel == "api" and coupon.issued_by_api_key is not None


def test_the_idempotency_key_issues_once(api, member):
    path = f"/api/v1/members/{member.pk}/coupons"
    first = post(api, path, {"template": "room_night"}, **{"Idempotency-Key": "crm-77"})
    again = post(api, path, {"template": "room_night"}, **{"Idempotency-Key": "crm-77"})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert Coupon.objects.count() == 1
    assert Coupon.objects.get().issue_key == "api:crm-77"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"template": "nope"}, 422, "coupon_template_not_found"),
        ({"template": 5}, 422, "validation_error"),
        ({}, 422, "validation_error"),
        ({"template": "room_night", "extra": 1}, 422, "validation_error"),
    ],
)
def test_bad_issue_requests_are_problems(api, member, body, status, code):
    response = post(api, f"/api/v1/members/{member.pk}/coupons", body)
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code


def test_limit_and_stock_answer_409(api, member):
    path = f"/api/v1/members/{member.pk}/coupons"
    for _ in range(2):
        assert post(api, path, {"template": "room_night"}).status_code == 201
    response = post(api, path, {"template": "room_night"})
    assert (response.status_code, response.json()["code"]) == (409, "coupon_limit_reached")
    CouponTemplate.objects.filter(code="cny").update(stock=0)
    response = post(api, path, {"template": "cny"})
    assert (response.status_code, response.json()["code"]) == (409, "coupon_out_of_stock")


def test_another_merchants_member_is_404(other_api, member):
    response = post(other_api, f"/api/v1/members/{member.pk}/coupons", {"template": "room_night"})
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert other_api.get(f"/api/v1/members/{member.pk}/coupons").status_code == 404
    response = put(other_api, f"/api/v1/members/{member.pk}/tier", {"tier": "gold"})
    assert response.status_code == 404
    assert not Coupon.objects.exists()


def test_list_a_members_coupons(api, member):
    path = f"/api/v1/members/{member.pk}/coupons"
    first = post(api, path, {"template": "room_night"}).json()
    second = post(api, path, {"template": "cny"}).json()
    Coupon.objects.filter(code=first["code"]).update(status="used")
    listed = api.get(path).json()
    assert [c["code"] for c in listed] == [second["code"], first["code"]]
    assert [c["code"] for c in api.get(path, {"status": "used"}).json()] == [first["code"]]
    assert api.get(path, {"status": "available"}).json() == [second]
    response = api.get(path, {"status": "lost"})
    assert (response.status_code, response.json()["code"]) == (422, "validation_error")


def test_set_a_members_tier(api, member):
    response = put(api, f"/api/v1/members/{member.pk}/tier", {"tier": "gold", "reason": "VIP"})
    assert response.status_code == 200
    assert response.json() == {"member": member.pk, "tier": "gold", "name": "金卡会员", "rank": 2}
    assert api.get(f"/api/v1/members/{member.pk}").json()["tier"] == "gold"
    entry = AuditEntry.objects.get(object_type="member", action="update")
    assert entry.api_key is not None and entry.changes["reason"] == [None, "VIP"]
    response = put(api, f"/api/v1/members/{member.pk}/tier", {"tier": "platinum"})
    assert (response.status_code, response.json()["code"]) == (422, "tier_not_found")


def test_members_show_their_tier(api, member, s2_member):
    put(api, f"/api/v1/members/{member.pk}/tier", {"tier": "silver"})
    page = api.get("/api/v1/members").json()
    tiers = {row["id"]: row["tier"] for row in page["items"]}
    assert tiers == {member.pk: "silver", s2_member.pk: "normal"}


def test_list_promotions_and_templates(api, applied):
    promotions = api.get("/api/v1/promotions", headers={"Accept-Language": "en"}).json()
    assert [p["code"] for p in promotions] == ["tuesday", "double", "SPRING10"]
    spring = promotions[2]
    assert spring["condition"]["starts_at"] == "2027-03-01T00:00:00+08:00"
    assert spring["benefit"] == {"type": "fixed", "value": 1000, "categories": ["dishes"]}
    assert spring["description"] == (
        "¥10.00 off on categories dishes · spend at least ¥200.00; "
        "from 2027-03-01 00:00; until 2027-04-01 00:00"
    )
    assert promotions[1]["benefit"] == {"type": "points_multiplier", "value": 2}
    chinese = api.get("/api/v1/promotions").json()[2]["description"]  # zh-Hans by default
    assert chinese.startswith("立减 ¥10.00")
    templates = api.get("/api/v1/coupon-templates", headers={"Accept-Language": "en"}).json()
    assert [t["code"] for t in templates] == ["cny", "room_night"]
    cny = templates[0]
    assert (cny["stock"], cny["issued"], cny["remaining"], cny["valid_days"]) == (100, 0, 100, None)
    assert templates[1]["description"] == "1 item free on SKUs ROOM-STD · Every sale"


def test_writes_need_a_key(client, member):
    response = post(client, f"/api/v1/members/{member.pk}/coupons", {"template": "room_night"})
    assert response.status_code == 401
