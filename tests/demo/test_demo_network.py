"""The demo shows the network (issue 20): HQ's limits for store activities and a store's own
coupon, a settlement between stores and staff commissions last month and this month, and a
partner café with an active alliance and a few exchanges."""

from __future__ import annotations

import pytest

from patron.demo.data import CAFE_SLUG
from patron.demo.selectors import print_logins
from patron.demo.services import create_demo
from patron.ledger.selectors import reconcile
from patron.members.models import Member
from patron.network import commission_selectors as commissions
from patron.network import settlement_selectors as settlement
from patron.network.models import Alliance, AllianceExchange
from patron.promotions.models import CouponTemplate
from patron.promotions.store_activities import limits_for
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant

pytestmark = [pytest.mark.django_db]


def test_the_demo_shows_the_network():
    demo = create_demo(members=60).merchant
    hq = Actor.system(demo)
    assert limits_for(demo).allowed and limits_for(demo).max_live == 5
    assert CouponTemplate.objects.get(merchant=demo, code="s2_tea").owner_store.code == "S2"
    last = settlement.last_month(demo)
    for month in (last, settlement.next_month(last)):
        statement = settlement.statement(hq, month)
        assert statement.rows, month
        assert sum(statement.net.values()) == 0
        rows = commissions.statement(hq, commissions.parse_month(month, demo.timezone))
        by_staff = {row.staff: row for row in rows}
        assert {"s1.cashier", "s2.cashier", "s3.cashier"} <= set(by_staff), month
        assert all(row.amount > 0 and row.cards == 1 for row in by_staff.values())
        assert max(row.ladder_bonus for row in rows) == 8000  # someone reached 6 recruits
    cafe = Merchant.objects.get(slug=CAFE_SLUG)
    alliance = Alliance.objects.get()
    assert alliance.status == Alliance.Status.ACTIVE
    assert AllianceExchange.objects.filter(alliance=alliance).count() == 5
    assert Member.objects.filter(merchant=cafe).count() >= 6
    assert reconcile(demo) == [] and reconcile(cafe) == []


def test_make_run_prints_the_partners_login_too():
    create_demo(members=20)

    class Out(list):
        write = list.append

    out = Out()
    print_logins(out, "http://127.0.0.1:8000/")
    assert any(line.strip().startswith("cafe ") for line in out)
