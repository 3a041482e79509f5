"""The card page /m/ (issue 18 §3): what a member sees of their card, tier, points, stored
value and coupons, and only their own."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.dateformat import format as date_format

from patron.ledger import services as ledger
from patron.ledger.models import PointsLot
from patron.members.services import register_member
from patron.program.services import apply_program
from patron.promotions.services import issue_coupon
from patron.tenancy.actor import Actor
from patron.tenancy.services import create_merchant, create_store
from tests.portal.conftest import log_in_as

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

PROGRAM = {
    "categories": ["rooms", "retail"],
    "tiers": [
        {"code": "normal", "name": "普通会员", "rank": 0},
        {
            "code": "silver",
            "name": "银卡会员",
            "rank": 1,
            "discount": {"rooms": 88},
            "points_multiplier": 1.5,
            "upgrade_when": {"spend_12m": 100000},
        },
    ],
    "points": {
        "earn": {"per_amount": 100, "points": 3},  # 3 points per yuan paid
        "expiry": {"policy": "end_of_next_year"},
        "pending_days": 0,
    },
    "topup_bonus": [{"min": 50000, "bonus": 5000}],
    "coupon_templates": [
        {
            "code": "cash20",
            "name": "满100减20",
            "condition": {"min_amount": 10000},
            "benefit": {"type": "fixed", "value": 2000},
            "valid_days": 30,
        },
        {
            "code": "room10",
            "name": "客房九折券",
            "benefit": {"type": "percent", "value": 10, "categories": ["rooms"]},
            "valid_days": 30,
        },
    ],
}


@pytest.fixture
def shopper(system, api, portal_member):
    """portal_member after a 258-yuan sale (774 points) and a top-up with a bonus."""
    apply_program(system, PROGRAM)
    sale = {
        "member": portal_member.pk,
        "store": "S1",
        "lines": [{"sku": "MUG", "category": "retail", "quantity": 1, "unit_price": 25800}],
    }
    response = api.post("/api/v1/sales", sale, content_type="application/json")
    assert response.status_code == 201, response.content
    ledger.top_up(system, portal_member, 50000, key="sv-1")
    return portal_member


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_points_stored_value_and_next_expiry(phone, shopper):
    response = phone.get("/m/")
    assert response.status_code == 200
    assert response.context["tab"] == "card"
    html = page_text(response)
    balance = re.search(r'id="points-balance">([^<]*)<', html)
    assert balance and balance.group(1) == "774"
    assert re.search(r'id="sv-principal">¥500\.00<', html)
    assert re.search(r'id="sv-bonus">¥50\.00<', html)
    lot = PointsLot.objects.get(member=shopper)
    day = timezone.localtime(lot.expires_at - dt.timedelta(microseconds=1)).date()
    shown = date_format(day, "n月j日" if day.year == timezone.localdate().year else "Y年n月j日")
    assert f"774 积分将于 {shown} 过期" in html


def test_tier_benefits_and_progress(phone, shopper):
    html = page_text(phone.get("/m/"))
    assert 'id="card-tier">普通会员<' in html
    # 1000 yuan in 12 months reaches silver; 258 spent (the sale's paid amount).
    assert '<progress id="tier-progress" max="100000" value="25800">¥258 / ¥1,000<' in html
    assert "¥742" in html and "银卡会员" in html


def test_live_coupons_with_their_conditions_and_not_used_ones(phone, shopper, system):
    issue_coupon(system, shopper, "cash20", key="c1")
    used = issue_coupon(system, shopper, "room10", key="c2")
    used.status = "used"
    used.save(update_fields=["status"])
    html = page_text(phone.get("/m/"))
    coupons = html[html.index('id="coupons"') :]
    assert "满100减20" in coupons and "¥100.00" in coupons  # the minimum spend, in words
    assert "有效期至" in coupons
    assert "客房九折券" not in coupons


def test_card_number_is_spaced_and_the_name_shown(phone, portal_member):
    html = page_text(phone.get("/m/"))
    no = portal_member.card_no
    spaced = " ".join(no[i : i + 4] for i in range(0, len(no), 4))
    assert f'id="card-no">{spaced}<' in html
    assert "林小雨" in html


def test_the_page_is_not_cached_and_loads_its_script(phone, portal_member):
    response = phone.get("/m/")
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert re.search(r'<script src="[^"]*portal/card\.js" defer>', html)
    assert '<noscript><meta http-equiv="refresh" content="50"></noscript>' in html
    assert "style=" not in html and " onclick" not in html
    assert re.search(r"<script>", html) is None


def test_another_merchants_member_never_appears(shopper):
    other = create_merchant("beta", "Beta 连锁")
    create_store(Actor.system(other), "S1", "别家店")
    stranger = register_member(
        Actor.system(other), {"mobile": "13900000000", "name": "别家人", "store": "S1"}
    )
    phone = log_in_as(Client(), stranger)
    html = page_text(phone.get("/m/?merchant=beta"))
    assert "别家人" in html
    assert "林小雨" not in html
    assert 'id="points-balance">0<' in html and 'id="sv-principal">¥0.00<' in html


def test_anonymous_visitors_go_to_log_in(portal_member):
    for path in ("/m/", "/m/qr", "/m/card/lost"):
        response = Client().get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/m/login")


def test_the_page_in_english(phone, shopper):
    phone.post("/i18n/setlang/", {"language": "en", "next": "/m/"})
    html = page_text(phone.get("/m/"))
    assert "Stored value" in html and "points expire on" in html


def test_the_first_page_weighs_under_100_kb(phone, shopper, system):
    """HTML + CSS + JS uncompressed (API.md §10), for a member with coupons and codes."""
    for n in range(5):
        issue_coupon(system, shopper, "cash20", key=f"w{n}")
    html = phone.get("/m/").content
    static = Path(__file__).resolve().parents[2] / "patron" / "portal" / "static" / "portal"
    assets = sum((static / name).stat().st_size for name in ("portal.css", "card.css", "card.js"))
    assert len(html) + assets < 100_000, (len(html), assets)
