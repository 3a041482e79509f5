# ruff: noqa: F811
# (the fixtures imported from mall_support are the tests' parameters)
"""Redeeming, fulfilling and cancelling points-mall rewards: points, stock, coupons and cash
move exactly, through the ledger, and a refusal writes nothing."""

from __future__ import annotations

import pytest

from patron.activities import mall
from patron.activities.models import MallPayment, Redemption
from patron.core.errors import DomainError
from patron.ledger.models import Transaction
from patron.ledger.selectors import reconcile
from patron.promotions.models import Coupon, CouponStatus
from patron.shifts.selectors import figures
from tests.activities.mall_support import left, member, new_member, points_of, rewards  # noqa: F401

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, int, int, int]:
    return (
        Redemption.objects.count(),
        Transaction.objects.count(),
        Coupon.objects.count(),
        MallPayment.objects.count(),
    )


def test_goods_redemption_moves_points_stock_and_cash_exactly(cashier, member, rewards):
    mug = rewards["mug"]

    done = mall.redeem(cashier, member, mug, key="k1", tenders=[mall.Tender("wechat", 990)])

    assert (done.status, done.points, done.cash_due, done.cash_paid) == ("pending", 800, 990, 990)
    assert points_of(member) == 10000 - 800
    assert left(mug) == 49
    assert done.spend.source == "mall" and done.spend.reason == "马克杯"
    assert reconcile(cashier.merchant) == []
    assert done.store.code == "S1"


def test_cancel_gives_points_stock_and_cash_back(cashier, hq, member, rewards):
    mug = rewards["mug"]
    done = mall.redeem(cashier, member, mug, key="k1", tenders=[mall.Tender("cash", 990)])

    cancelled = mall.cancel(hq, done)

    assert cancelled.status == "cancelled"
    assert points_of(member) == 10000
    assert left(mug) == 50
    assert sum(MallPayment.objects.values_list("amount", flat=True)) == 0
    assert reconcile(hq.merchant) == []
    again = mall.cancel(hq, cancelled)  # a second cancel changes nothing
    assert again.status == "cancelled" and points_of(member) == 10000 and left(mug) == 50


def test_the_cash_part_is_counted_in_the_cashiers_shift(cashier, member, rewards, stores):
    mall.redeem(cashier, member, rewards["mug"], key="k1", tenders=[mall.Tender("cash", 990)])
    start = Redemption.objects.get().created_at.replace(hour=0, minute=0)

    taken = figures(cashier.merchant, stores["S1"], cashier.user, start)

    assert taken.card_payments["mall"]["cash"] == 990
    assert taken.cash_expected == 990


def test_insufficient_points_is_422_and_writes_nothing(system, cashier, rewards, stores):
    poor = new_member(system, "13800138001", 100)
    before = counts()

    with pytest.raises(DomainError) as refused:
        mall.redeem(cashier, poor, rewards["mug"], key="k1")

    assert (refused.value.code, refused.value.status) == ("insufficient_points", 422)
    assert counts() == before
    assert left(rewards["mug"]) == 50 and points_of(poor) == 100


def test_out_of_stock_is_409(hq, member, rewards):
    from patron.program.services import apply_program
    from tests.activities.mall_support import MUG, PROGRAM

    apply_program(hq, {**PROGRAM, "rewards": [{**MUG, "stock": 1}]})
    mug = rewards["mug"]
    mall.redeem(hq, member, mug, key="k1")
    before = counts()

    with pytest.raises(DomainError) as refused:
        mall.redeem(hq, member, mug, key="k2")

    assert (refused.value.code, refused.value.status) == ("out_of_stock", 409)
    assert counts() == before and points_of(member) == 10000 - 800


def test_per_member_limit_is_409_and_a_cancel_frees_it(hq, member, rewards):
    night = rewards["free_night"]
    mall.redeem(hq, member, night, key="k1")
    second = mall.redeem(hq, member, night, key="k2")
    before = counts()

    with pytest.raises(DomainError) as refused:
        mall.redeem(hq, member, night, key="k3")

    assert (refused.value.code, refused.value.status) == ("limit_reached", 409)
    assert counts() == before
    mall.cancel(hq, second)
    assert mall.redeem(hq, member, night, key="k4").status == "pending"


def test_coupon_reward_issues_a_coupon_and_cancel_voids_it(hq, member, rewards):
    done = mall.redeem(hq, member, rewards["free_night"], key="k1")

    assert done.coupon.template.code == "room_night"
    assert done.coupon.status == CouponStatus.AVAILABLE and done.status == "pending"
    mall.cancel(hq, done)
    done.coupon.refresh_from_db()
    assert done.coupon.status == CouponStatus.ENDED
    assert points_of(member) == 10000 and left(rewards["free_night"]) == 20


def test_a_used_coupon_cannot_be_cancelled(hq, member, rewards):
    done = mall.redeem(hq, member, rewards["free_night"], key="k1")
    Coupon.objects.filter(pk=done.coupon_id).update(status=CouponStatus.USED)

    with pytest.raises(DomainError) as refused:
        mall.cancel(hq, Redemption.objects.get(pk=done.pk))

    assert refused.value.code == "coupon_used"
    assert points_of(member) == 10000 - 5000


def test_fulfil_ships_with_tracking_and_takes_what_is_due(hq, member, rewards):
    done = mall.redeem(hq, member, rewards["mug"], key="k1")
    assert done.cash_outstanding == 990

    shipped = mall.fulfil(hq, done, tracking_no="SF1234567890")

    assert (shipped.status, shipped.tracking_no, shipped.cash_paid) == (
        "fulfilled",
        "SF1234567890",
        990,
    )
    with pytest.raises(DomainError) as refused:
        mall.cancel(hq, shipped)
    assert refused.value.code == "already_fulfilled"


def test_tenders_must_add_up_to_the_cash_part(hq, member, rewards):
    before = counts()
    with pytest.raises(DomainError) as refused:
        mall.redeem(hq, member, rewards["mug"], key="k1", tenders=[mall.Tender("cash", 100)])
    assert refused.value.code == "tenders_mismatch"
    assert counts() == before


def test_the_same_key_gives_the_same_redemption(hq, member, rewards):
    first = mall.redeem(hq, member, rewards["mug"], key="k1")
    again = mall.redeem(hq, member, rewards["mug"], key="k1")
    assert again.pk == first.pk and again.replayed
    assert points_of(member) == 10000 - 800 and left(rewards["mug"]) == 49


def test_history_explains_the_movement_in_words(hq, member, rewards):
    from patron.portal.history_selectors import movement_title

    done = mall.redeem(hq, member, rewards["mug"], key="k1")

    assert movement_title(done.spend) == "积分兑换"
    assert done.spend.reason == "马克杯"
