"""The member page's Preferences card, the API fact, and the "due to buy again" page with
its store scoping, windows and audited export."""

from __future__ import annotations

import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.test import Client
from django.utils import timezone

from patron.insight.due_views import window_bounds
from patron.insight.history_panel import preferences, price_band
from patron.members.services import register_member
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Role
from patron.tenancy.services import create_staff
from tests.insight.history_support import run_import, write_csv

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SHANGHAI = ZoneInfo("Asia/Shanghai")
ANNA, BO = "13800138000", "13900139000"


def logged_in(actor: Actor, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(actor.staff.user)
    return client


def local_day(days_from_today: int) -> str:
    today = timezone.now().astimezone(SHANGHAI).date()
    return (today + dt.timedelta(days=days_from_today)).isoformat()


@pytest.fixture
def members(system, stores):
    return {
        "anna": register_member(system, {"mobile": ANNA, "name": "安娜", "store": "S1"}),
        "bo": register_member(system, {"mobile": BO, "name": "博文", "store": "S2"}),
    }


@pytest.fixture
def history(tmp_path, members):
    """Anna buys coffee every 5 days (due in 2 days) and a shirt twice 40 days apart; Bo buys
    tea every 10 days and is 4 days late."""
    header = ["mobile", "occurred_at", "store", "sku", "category", "quantity", "amount"]
    rows = [
        [ANNA, local_day(-13), "S1", "LATTE", "coffee", 1, 3000],
        [ANNA, local_day(-8), "S1", "LATTE", "coffee", 2, 6000],
        [ANNA, local_day(-3), "S1", "LATTE", "coffee", 1, 3000],
        [ANNA, local_day(-60), "S1", "SHIRT", "clothes", 1, 15000],
        [ANNA, local_day(-20), "S1", "SHIRT", "clothes", 1, 15000],
        [BO, local_day(-24), "S2", "TEA", "tea", 1, 1200],
        [BO, local_day(-14), "S2", "TEA", "tea", 1, 1200],
    ]
    code, out = run_import(write_csv(tmp_path / "h.csv", rows, header))
    assert code == 0, out


@pytest.fixture
def manager(system, stores) -> Actor:
    staff = create_staff(system, "manager1", "password123", Role.STORE_MANAGER, stores["S1"])
    return Actor(merchant=system.merchant, staff=staff, ip="127.0.0.1")


def test_price_bands():
    assert price_band(None) is None
    assert price_band(0) == (0, 5000)
    assert price_band(15000) == (10000, 20000)
    assert price_band(20000) == (20000, 50000)  # a bound belongs to the band above it
    assert price_band(250000) == (200000, None)


def test_preferences_by_hand(members, history):
    found = preferences(members["anna"])
    # spend: clothes 30000, coffee 12000 -> shares 30000/42000 and 12000/42000
    assert [(f.value, round(f.share, 4)) for f in found.categories] == [
        ("clothes", 0.7143),
        ("coffee", 0.2857),
    ]
    # unit prices 3000, 3000, 3000, 3000, 15000, 15000 -> median 3000 -> 0–50 yuan
    assert found.median_price == 3000 and found.band == (0, 5000)
    cycles = {cycle.category: round(cycle.days, 1) for cycle in found.cycles}
    assert cycles == {"coffee": 5.0, "clothes": 40.0}
    coffee = next(cycle for cycle in found.cycles if cycle.category == "coffee")
    assert coffee.due_at.astimezone(SHANGHAI).date().isoformat() == local_day(2)


def test_the_member_page_shows_the_preferences_card(hq, members, history):
    response = logged_in(hq, "zh-hans").get(f"/members/{members['anna'].pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="member-preferences"' in html
    assert "消费偏好" in html
    assert "每 5 天买一次 coffee" in html, html[html.index("member-preferences") :][:2000]
    assert "0–50 元" in html


def test_window_bounds_in_the_merchants_zone():
    now = dt.datetime(2026, 12, 10, 1, 0, tzinfo=dt.UTC)  # Thursday 09:00 in Shanghai
    start, end = window_bounds("week", now, SHANGHAI)
    assert start == dt.datetime(2026, 12, 7, tzinfo=SHANGHAI)  # Monday 00:00 local
    assert end == dt.datetime(2026, 12, 14, tzinfo=SHANGHAI)
    assert window_bounds("next7", now, SHANGHAI) == (now, now + dt.timedelta(days=7))
    assert window_bounds("overdue", now, SHANGHAI) == (now - dt.timedelta(days=30), now)


def rows_of(response) -> list[tuple[str, str]]:
    html = response.content.decode()
    return re.findall(r'data-member="(\d+)" data-category="([^"]+)"', html)


def test_the_due_page_by_window_and_store(hq, manager, members, history):
    anna, bo = str(members["anna"].pk), str(members["bo"].pk)
    hq_client = logged_in(hq)
    assert rows_of(hq_client.get("/insight/due/")) == [(anna, "coffee")]
    assert rows_of(hq_client.get("/insight/due/?window=overdue")) == [(bo, "tea")]
    assert rows_of(hq_client.get("/insight/due/?window=overdue&store=S1")) == []
    assert rows_of(hq_client.get("/insight/due/?window=next7&category=tea")) == []
    page = hq_client.get("/insight/due/?window=next7").content.decode()
    assert "138****8000" in page and ANNA not in page  # masked
    # a store manager of S1 sees S1's members only, whatever the store asked
    manager_client = logged_in(manager)
    assert rows_of(manager_client.get("/insight/due/?window=overdue")) == []
    assert rows_of(manager_client.get("/insight/due/?window=next7")) == [(anna, "coffee")]


def test_the_due_page_roles(cashier, marketer, members, history):
    assert logged_in(cashier).get("/insight/due/").status_code == 403
    assert logged_in(marketer).get("/insight/due/").status_code == 200


def test_the_due_export_is_masked_and_audited(hq, members, history):
    response = logged_in(hq).get("/insight/due/?window=overdue&export=xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2
    assert rows[1][2] == "139****9000" and rows[1][4] == "tea" and rows[1][5] == 10
    entry = AuditEntry.objects.get(action=AuditEntry.Action.EXPORT)
    assert entry.changes["count"] == [None, 1]
