"""Tiers as people see them: `tier_progress` / `tier_benefits` in the API, the member page's
tier card with history, the till's member card, and the console tier editor with its preview
(counts of members per tier under the edited rules) saved as a program revision."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from patron.program.models import ProgramRevision
from patron.promotions.models import Tier
from patron.promotions.services import set_member_tier
from tests.cards.tiers_support import member, sell, setup

pytestmark = pytest.mark.django_db


def logged_in(actor, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(actor.staff.user)
    return client


@pytest.fixture
def rules(system, stores):
    setup(system)


def test_tier_progress_in_the_api(api, system, rules):
    m = member(system)
    sell(system, m, 68000, "s")
    body = api.get(f"/api/v1/members/{m.pk}").json()
    assert body["tier_progress"]["next"] == "silver"
    assert body["tier_progress"]["missing"] == {"spend_12m": 32000}
    assert body["tier_benefits"]["tier"] == "normal"


def test_tier_progress_next_is_null_at_the_top(api, system, hq, rules):
    m = member(system)
    set_member_tier(hq, m, "gold")
    body = api.get(f"/api/v1/members/{m.pk}").json()
    assert body["tier_progress"] == {"next": None, "next_name": None, "missing": {}}
    assert body["tier_benefits"]["discount"] == {"rooms": 80}
    assert body["tier_benefits"]["points_multiplier"] == 1.5


def test_member_page_shows_benefits_progress_and_history(system, hq, rules):
    m = member(system)
    sell(system, m, 68000, "s")
    html = logged_in(hq, "zh-hans").get(f"/members/{m.pk}/").content.decode()
    assert "再消费 ¥320 升级银卡会员" in html
    sell(system, m, 40000, "s2")
    html = logged_in(hq).get(f"/members/{m.pk}/").content.decode()
    assert "Spend ¥3,920 more to reach 金卡会员" in html
    assert 'id="tier-history"' in html
    assert "Reached an upgrade threshold" in html
    assert "rooms 8.8" in html or "8.8" in html
    assert "延迟退房" in html


def test_the_till_member_card_shows_benefits_and_progress(system, cashier, rules):
    m = member(system)
    sell(system, m, 68000, "s")
    till = logged_in(cashier, "zh-hans")
    body = {
        "key": str(uuid.uuid4()),
        "op": "identify",
        "member_code": m.mobile,
        "line_sku": [],
        "line_category": [],
        "line_price": [],
        "line_qty": [],
        "line_name": [],
    }
    html = till.post("/cashier/quote/", body).content.decode()
    assert 'id="till-tier"' in html
    assert "再消费 ¥320 升级银卡会员" in html


def test_the_editor_previews_counts_and_saves_a_revision(system, hq, rules):
    for n, spend in enumerate((10000, 30000, 120000)):
        sell(system, member(system, f"1380013800{n}"), spend, f"s{n}")
    client = logged_in(hq)
    assert "银卡会员" in client.get("/tiers/").content.decode()
    form = {
        "name": "银卡会员",
        "discount_rooms": "88",
        "upgrade_spend_12m": "200",  # yuan
        "keep_spend_12m": "100",
        "grace_days": "30",
        "privileges": "延迟退房",
    }
    html = client.post("/tiers/silver/preview/", form).content.decode()
    assert "普通会员 1 member" in html or "普通会员 1 members" in html
    assert 'data-count="银卡会员">2<' in html  # 300 and 1,200 yuan; 1,200 held already
    zh = logged_in(hq, "zh-hans").post("/tiers/silver/preview/", form).content.decode()
    assert "按此规则，今天：普通会员 1 人，银卡会员 2 人，金卡会员 0 人" in zh
    before = ProgramRevision.objects.count()
    response = client.post("/tiers/silver/edit/", form)
    assert response.status_code == 302
    assert ProgramRevision.objects.count() == before + 1
    assert Tier.objects.get(code="silver").upgrade_when == {"spend_12m": 20000}


def test_the_editor_refuses_rules_out_of_order(system, hq, rules):
    client = logged_in(hq)
    form = {"name": "银卡会员", "upgrade_spend_12m": "6000"}  # above gold's 5,000 yuan
    html = client.post("/tiers/silver/preview/", form).content.decode()
    assert "tiers[2].upgrade_when.spend_12m" in html
    before = ProgramRevision.objects.count()
    response = client.post("/tiers/silver/edit/", form)
    assert response.status_code == 200
    assert ProgramRevision.objects.count() == before


def test_only_hq_roles_edit(system, cashier, rules):
    client = logged_in(cashier)
    assert client.get("/tiers/silver/edit/").status_code == 403
    assert client.post("/tiers/silver/preview/", {"name": "x"}).status_code == 403
