"""The report (API.md §9): counts, revenue and cost within the window, redeemed coupons, and
the uplift against hand-worked numbers."""

from __future__ import annotations

import datetime as dt

import pytest

from patron.campaigns import delivery
from patron.campaigns.models import Target
from patron.campaigns.report import report, uplift
from patron.promotions.models import Coupon, CouponTemplate
from patron.sales.models import Sale, SaleDiscount

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
NOON = dt.datetime(2026, 12, 6, 4, 0, tzinfo=dt.UTC)


def test_uplift_against_hand_worked_numbers():
    # Treated 30 of 200 bought (0.15), holdout 3 of 50 (0.06): diff 0.09;
    # se = sqrt(0.15*0.85/200 + 0.06*0.94/50) = sqrt(0.0006375 + 0.001128) = 0.0420179;
    # 1.959964 * 0.0420179 = 0.0823536 -> [0.0076464, 0.1723536].
    result = uplift(30, 200, 3, 50)
    assert result["treated_rate"] == pytest.approx(0.15)
    assert result["holdout_rate"] == pytest.approx(0.06)
    assert result["diff"] == pytest.approx(0.09)
    assert result["ci95"][0] == pytest.approx(0.0076464, abs=1e-6)
    assert result["ci95"][1] == pytest.approx(0.1723536, abs=1e-6)
    # No holdout: no comparison.
    assert uplift(5, 10, 0, 0) == {
        "treated_rate": 0.5,
        "holdout_rate": None,
        "diff": None,
        "ci95": None,
    }


def sale(member, store, when, total, key, *, coupon=None, discount=0):
    made = Sale.objects.create(
        merchant=member.merchant,
        member=member,
        store=store,
        idempotency_key=key,
        occurred_at=when,
        subtotal=total + discount,
        discount=discount,
        total=total,
    )
    if coupon is not None:
        SaleDiscount.objects.create(
            sale=made, code=coupon.code, kind="coupon", amount=discount, coupon=coupon
        )
        Coupon.objects.filter(pk=coupon.pk).update(status="used", used_at=when)
    return made


def test_report_counts_revenue_cost_and_conversion(running, members_of, merchant, stores):
    CouponTemplate.objects.create(
        merchant=merchant,
        code="NEW5",
        name="五元券",
        benefit={"type": "fixed", "value": 500},
        valid_days=30,
    )
    campaign = running(
        holdout_percent=50,
        window_days=14,
        actions=[
            {"type": "coupon", "template": "NEW5"},
            {"type": "message", "channel": "sms", "template": "券码 {coupon}"},
        ],
    )
    members = members_of(40, consent_sms=True) + members_of(4, start=100)
    delivery.contact(campaign, [m.pk for m in members], occurrence="o", now=NOON)
    targets = {t.member_id: t for t in Target.objects.filter(campaign=campaign)}
    treated = [m for m in members if targets[m.pk].group == "treated"]
    holdout = [m for m in members if targets[m.pk].group == "holdout"]
    reached = [m for m in treated if targets[m.pk].outcome == "reached"]
    no_consent = [m for m in treated if targets[m.pk].reason == "consent"]
    assert reached and holdout and no_consent

    store = stores["S1"]
    buyer, late, holdout_buyer = reached[0], reached[1], holdout[0]
    coupon = Coupon.objects.get(member=buyer)
    sale(buyer, store, NOON + dt.timedelta(days=2), 9500, "a", coupon=coupon, discount=500)
    sale(late, store, NOON + dt.timedelta(days=15), 8000, "b")  # after the window
    sale(holdout_buyer, store, NOON + dt.timedelta(days=1), 3000, "c")
    sale(buyer, store, NOON - dt.timedelta(days=1), 7000, "d")  # before contact

    figures = report(campaign)
    assert figures["targeted"] == 44
    assert figures["holdout"] == len(holdout)
    assert figures["reached"] == len(reached)
    assert figures["suppressed"]["consent"] == len(no_consent)
    assert figures["targeted"] == figures["holdout"] + figures["reached"] + sum(
        figures["suppressed"].values()
    )
    assert figures["redeemed"] == 1
    assert figures["revenue"] == 9500
    assert figures["cost"] == 500  # the coupon's discount on the sale that followed
    assert figures["spent"] == 500 * len(reached)
    assert figures["uplift"]["treated_rate"] == pytest.approx(1 / len(treated), abs=1e-6)
    assert figures["uplift"]["holdout_rate"] == pytest.approx(1 / len(holdout), abs=1e-6)
