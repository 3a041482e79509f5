"""Lottery pages: the member's page (published odds, draw, result) and the console's (budget,
draws masked by role, verify)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from patron.activities import lottery as services
from patron.activities.models import Draw
from patron.ledger import services as ledger
from patron.members.services import register_member
from patron.tenancy.models import Role
from tests.activities.lottery_support import member_with_points, points_of, set_up, wheel
from tests.conftest import staff_actor
from tests.portal.conftest import log_in_as

ALWAYS_POINTS = [
    {"code": "p50", "name": "500积分", "kind": "points", "points": 500, "value": 500, "odds": 100},
    {"code": "none", "kind": "none", "odds": 0},
]


def once_key(html: str) -> str:
    return re.search(r'name="once" value="([0-9a-f]{32})"', html).group(1)


@pytest.fixture
def portal_member(system, stores):
    return register_member(system, {"mobile": "13512345678", "name": "林小雨", "store": "S1"})


@pytest.fixture
def phone(portal_member) -> Client:
    """A phone's browser logged in as portal_member (WeChat's user agent, as in a store)."""
    client = Client(HTTP_USER_AGENT="Mozilla/5.0 (iPhone) MicroMessenger/8.0")
    return log_in_as(client, portal_member)


@pytest.fixture
def rich_member(system, portal_member):
    ledger.earn_points(system, portal_member, 1000, key="gift", pending_days=0)
    return portal_member


def test_the_member_page_publishes_the_odds(phone, system, rich_member):
    set_up(system)
    page = phone.get("/m/lottery/wheel")
    html = page.content.decode()
    assert page.status_code == 200
    assert "幸运转盘" in html
    assert "500 积分" in html or "500积分" in html  # the points prize, named in words
    assert "20元券" in html  # the coupon prize, by its template's name
    assert "85%" in html and "10%" in html and "5%" in html
    assert 'id="draws-left">3<' in html
    assert "<script>" not in html and "style=" not in html
    listing = phone.get("/m/lottery").content.decode()
    assert "/m/lottery/wheel" in listing


def test_a_member_draws_from_the_page(phone, system, rich_member):
    set_up(system, wheel(prizes=ALWAYS_POINTS))
    page = phone.get("/m/lottery/wheel")
    answer = phone.post("/m/lottery/wheel", {"once": once_key(page.content.decode())})
    assert answer.status_code == 302
    result = phone.get(answer["Location"]).content.decode()
    assert 'id="draw-result"' in result and "500积分" in result
    assert 'id="draws-left">2<' in result
    assert points_of(rich_member) == 1000 - 100 + 500
    # The same form sent twice (a double tap) draws once.
    phone.post("/m/lottery/wheel", {"once": once_key(page.content.decode())})
    assert Draw.objects.count() == 1


def test_the_member_page_says_why_a_draw_is_refused(phone, system, portal_member):
    set_up(system)
    page = phone.get("/m/lottery/wheel")
    answer = phone.post("/m/lottery/wheel", {"once": once_key(page.content.decode())})
    assert answer.status_code == 422
    assert "积分不足" in answer.content.decode() or "points" in answer.content.decode()
    assert not Draw.objects.exists()


def test_the_member_page_in_english(phone, system, rich_member):
    set_up(system)
    html = phone.get("/m/lottery/wheel", headers={"Accept-Language": "en"}).content.decode()
    assert "Prizes and odds" in html and "Draws left today" in html
    assert "500 points" in html and "Better luck next time" in html


def test_an_unknown_lottery_is_a_404(phone, system, portal_member):
    assert phone.get("/m/lottery/nope").status_code == 404


def logged_in(actor) -> Client:
    client = Client()
    client.force_login(actor.staff.user)
    return client


def test_the_console_shows_budget_draws_and_verifies(system, stores, hq):
    set_up(system, wheel(prizes=ALWAYS_POINTS))
    member = member_with_points(system, "13900001234", 500)
    record = services.draw(system, member, "wheel", key="k")
    client = logged_in(hq)
    listing = client.get("/activities/lotteries/").content.decode()
    assert "幸运转盘" in listing
    assert "¥500.00" in listing and "¥5.00" in listing and "¥495.00" in listing
    detail = client.get("/activities/lotteries/wheel/").content.decode()
    assert record.seed in detail and "13900001234" in detail  # HQ sees personal data
    assert "500积分" in detail and ": p50" not in detail  # the prize by its name, not its code
    check = client.get(f"/activities/lotteries/wheel/draws/{record.pk}/")
    assert check.status_code == 200
    assert 'data-matches="yes"' in check.content.decode()


def test_a_marketer_sees_members_masked(system, stores):
    set_up(system, wheel(prizes=ALWAYS_POINTS))
    member = member_with_points(system, "13900001234", 500)
    services.draw(system, member, "wheel", key="k")
    marketer = staff_actor(system, "mk", Role.MARKETER)
    detail = logged_in(marketer).get("/activities/lotteries/wheel/").content.decode()
    assert "139****1234" in detail and "13900001234" not in detail


def test_a_cashier_may_not_open_lotteries(system, stores, cashier):
    assert logged_in(cashier).get("/activities/lotteries/").status_code == 403


def test_a_tampered_seed_does_not_verify(system, stores, hq):
    set_up(system, wheel(cost_points=0, daily_limit=None))
    member = member_with_points(system, "13900001235", 0)
    draws = [services.draw(system, member, "wheel", key=f"k{n}") for n in range(20)]
    client = logged_in(hq)
    mismatches = 0
    for record in draws:
        Draw.objects.filter(pk=record.pk).update(seed=record.seed[::-1])
        html = client.get(f"/activities/lotteries/wheel/draws/{record.pk}/").content.decode()
        mismatches += 'data-matches="no"' in html
    assert mismatches > 0
