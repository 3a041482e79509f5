"""Referral (F-04): the referrer is rewarded on the referee's first committed sale (never for
joining), the referee gets a coupon, a refund of that sale takes both back, a monthly cap,
no self-referral (same member, mobile or device); the leaderboard."""

from __future__ import annotations

import pytest

from patron.activities import referral
from patron.activities.models import ReferralReward
from patron.core.errors import ValidationFailed
from patron.ledger import selectors as ledger_selectors
from patron.ledger.selectors import reconcile
from patron.members.services import register_member
from patron.program.services import apply_program
from patron.promotions.models import Coupon, CouponStatus

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
PROGRAM = {
    "categories": ["drinks"],
    "points": {"earn": {"per_amount": 100, "points": 1}, "pending_days": 0},
    "coupon_templates": [
        {
            "code": "welcome20",
            "name": "新人满100减20",
            "condition": {"min_amount": 10000},
            "benefit": {"type": "fixed", "value": 2000},
            "valid_days": 30,
        }
    ],
    "referral": {
        "referrer_points": 500,
        "referee_coupon": "welcome20",
        "on": "first_purchase",
        "monthly_cap": 2,
    },
}
LINE = {"sku": "TEA-LJ", "category": "drinks", "quantity": 1, "unit_price": 5000}


def post(client, path, body=None, **headers):
    return client.post(path, body or {}, content_type="application/json", headers=headers)


def points(member) -> int:
    return ledger_selectors.member_balances(member)["points"]["available"]


@pytest.fixture
def rules(system, stores):
    apply_program(system, PROGRAM)


@pytest.fixture
def referrer(system, rules):
    return register_member(system, {"mobile": "13900000001", "store": "S1", "name": "老会员"})


def join(system, referrer, mobile: str, **extra):
    data = {"mobile": mobile, "store": "S1", "referrer_code": referrer.referral_code, **extra}
    return register_member(system, data)


def buy(api, member) -> dict:
    response = post(api, "/api/v1/sales", {"member": member.pk, "store": "S1", "lines": [LINE]})
    assert response.status_code == 201, response.content
    return response.json()


def test_joining_alone_rewards_nothing_the_first_sale_does(api, system, referrer):
    friend = join(system, referrer, "13900000002")
    assert points(referrer) == 0
    assert not ReferralReward.objects.exists()
    buy(api, friend)
    reward = ReferralReward.objects.get(referee=friend)
    assert (reward.status, reward.points, reward.referrer_id) == ("rewarded", 500, referrer.pk)
    assert points(referrer) == 500
    coupon = Coupon.objects.get(member=friend)
    assert coupon.template.code == "welcome20" and coupon.status == CouponStatus.AVAILABLE
    buy(api, friend)  # a second sale rewards nothing more
    assert points(referrer) == 500
    assert Coupon.objects.filter(member=friend).count() == 1
    assert reconcile() == []


def test_a_refund_of_the_first_sale_takes_the_reward_back(api, system, referrer):
    friend = join(system, referrer, "13900000002")
    sale = buy(api, friend)
    refund = post(api, f"/api/v1/sales/{sale['id']}/refunds", {"all": True})
    assert refund.status_code == 201, refund.content
    reward = ReferralReward.objects.get(referee=friend)
    assert reward.status == "revoked" and reward.revoked_at is not None
    assert points(referrer) == 0
    assert Coupon.objects.get(member=friend).status == CouponStatus.ENDED
    buy(api, friend)  # no second chance: one reward per referee, ever
    assert points(referrer) == 0
    assert reconcile() == []


def test_the_monthly_cap_is_respected(api, system, referrer):
    friends = [join(system, referrer, f"1390000001{n}") for n in range(3)]
    for friend in friends:
        buy(api, friend)
    statuses = list(ReferralReward.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == ["rewarded", "rewarded", "capped"]
    assert points(referrer) == 1000
    # the capped referee still gets their coupon: the cap is the referrer's
    assert Coupon.objects.filter(member=friends[2]).exists()


def test_self_referral_by_mobile_or_device_is_refused(api, system, referrer):
    body = {"mobile": "13900000001", "store": "S1", "referrer_code": referrer.referral_code}
    with pytest.raises(ValidationFailed) as refused:
        register_member(system, body)
    assert [e.field for e in refused.value.errors] == ["referrer_code"]

    device_owner = register_member(
        system, {"mobile": "13900000005", "store": "S1", "device_id": "phone-abc"}
    )
    response = post(
        api,
        "/api/v1/members",
        {
            "mobile": "13900000006",
            "referrer_code": device_owner.referral_code,
            "device_id": "phone-abc",
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "referrer_code"
    other_device = post(
        api,
        "/api/v1/members",
        {
            "mobile": "13900000006",
            "referrer_code": device_owner.referral_code,
            "device_id": "phone-xyz",
        },
    )
    assert other_device.status_code == 201, other_device.content


def test_the_same_member_is_never_rewarded(system, referrer):
    assert referral.is_self_referral(referrer, referrer)


def test_leaderboard_orders_by_rewarded_referrals(api, system, referrer):
    second = register_member(system, {"mobile": "13900000009", "store": "S1"})
    for n in range(2):
        buy(api, join(system, referrer, f"1390000002{n}"))
    buy(api, join(system, second, "13900000030"))
    month = referral.month_of(system)
    board = list(referral.leaderboard(system.merchant.pk, month))
    assert [(m.pk, m.rewarded) for m in board] == [(referrer.pk, 2), (second.pk, 1)]
