"""The console home lists the latest campaigns with reach, revenue, cost and ROI."""

from __future__ import annotations

import datetime as dt

import pytest

from patron.campaigns import delivery, services
from patron.campaigns.models import Campaign
from patron.sales.models import Sale
from tests.campaigns.conftest import make_members, spec
from tests.console.conftest import logged_in

pytestmark = [pytest.mark.django_db]


def test_home_shows_campaign_roi_to_hq_only(hq, cashier, system, merchant, stores):
    campaign = services.create_campaign(
        system,
        spec(
            name="会员日短信",
            kind="trigger",
            trigger={"event": "sale.completed"},
            actions=[{"type": "points", "points": 100}],
        ),
    )
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.RUNNING, launched_at=dt.datetime.now(dt.UTC)
    )
    member = make_members(merchant, 1)[0]
    now = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    delivery.contact(campaign, [member.pk], occurrence="o", now=now)
    Sale.objects.create(
        merchant=merchant,
        member=member,
        store=stores["S1"],
        idempotency_key="s",
        occurred_at=now + dt.timedelta(minutes=10),
        subtotal=3000,
        discount=0,
        total=3000,
    )
    page = logged_in(hq, language="zh-hans").get("/").content.decode()
    assert 'id="campaign-roi"' in page and "会员日短信" in page
    row = page[page.index(f'data-campaign="{campaign.pk}"') :].split("</tr>")[0]
    # 100 points at the default 100 points = 1.00 yuan; revenue 30.00: ROI 2900 %.
    assert "¥30.00" in row and "¥1.00" in row and "2900%" in row
    assert 'id="campaign-roi"' not in logged_in(cashier).get("/").content.decode()
