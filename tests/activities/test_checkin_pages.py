"""The member page /m/checkin (check in without JavaScript, streak, month, make-up card,
referral code and link) and the console page /activities/checkin/ (stats, leaderboard)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from patron.activities import checkin
from patron.activities.models import CheckIn, ReferralReward
from patron.ledger import selectors as ledger_selectors
from patron.members.services import register_member
from patron.program.services import apply_program
from patron.sales.models import Sale
from tests.portal.conftest import log_in_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def portal_member(system, stores):
    return register_member(system, {"mobile": "13512345678", "name": "林小雨", "store": "S1"})


@pytest.fixture
def phone(portal_member) -> Client:
    """A phone's browser logged in as portal_member (WeChat's user agent)."""
    return log_in_as(
        Client(HTTP_USER_AGENT="Mozilla/5.0 (iPhone) MicroMessenger/8.0"), portal_member
    )


@pytest.fixture
def rules(system, stores):
    apply_program(
        system,
        {
            "checkin": {"points": 5, "streaks": [{"days": 7, "points": 20}]},
            "referral": {"referrer_points": 100},
        },
    )


def test_member_checks_in_from_the_page(rules, phone, portal_member):
    page = phone.get("/m/checkin")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="checkin-button"' in html and portal_member.referral_code in html
    assert "ref=" + portal_member.referral_code in html
    done = phone.post("/m/checkin", {"action": "checkin"}, follow=True)
    html = done.content.decode()
    assert 'id="checked-in"' in html and 'id="checkin-button"' not in html
    assert CheckIn.objects.filter(member=portal_member).count() == 1
    assert ledger_selectors.member_balances(portal_member)["points"]["available"] == 5
    again = phone.post("/m/checkin", {"action": "checkin"}, follow=True)
    assert "m-alert-error" in again.content.decode()  # a clear message, not a traceback
    assert CheckIn.objects.filter(member=portal_member).count() == 1


def test_member_fills_a_missed_day_with_a_card(system, rules, phone, portal_member):
    checkin.grant_makeup_cards(system, portal_member, 1, "客服补偿")
    yesterday = checkin.local_today(system.merchant) - dt.timedelta(days=1)
    page = phone.get("/m/checkin").content.decode()
    assert 'id="makeup-button"' in page and yesterday.isoformat() in page
    phone.post("/m/checkin", {"action": "makeup", "day": yesterday.isoformat()})
    assert CheckIn.objects.get(member=portal_member).makeup
    assert checkin.makeup_cards_of(portal_member) == 0
    bad = phone.post("/m/checkin", {"action": "makeup", "day": "nonsense"}, follow=True)
    assert bad.status_code == 200 and "m-alert-error" in bad.content.decode()


def test_page_in_english(rules, phone):
    page = phone.get("/m/checkin", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200


def test_console_page_shows_stats_and_masked_leaderboard(system, hq, rules):
    referrer = register_member(system, {"mobile": "13900007777", "store": "S1", "name": "推荐王"})
    friend = register_member(system, {"mobile": "13900007778", "store": "S1"})
    checkin.check_in(system, friend)
    sale = Sale.objects.create(  # a stand-in first sale, as on_sale records it
        merchant=system.merchant,
        member=friend,
        store=friend.store,
        idempotency_key="s1",
        occurred_at=dt.datetime.now(dt.UTC),
        subtotal=100,
        discount=0,
        total=100,
    )
    ReferralReward.objects.create(
        merchant=system.merchant,
        referrer=referrer,
        referee=friend,
        sale=sale,
        month=checkin.local_today(system.merchant).strftime("%Y-%m"),
        status="rewarded",
        points=100,
    )
    client = Client()
    client.force_login(hq.staff.user)
    page = client.get("/activities/checkin/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "推荐王" in html and "139****7777" in html and "13900007777" not in html
    assert "data-today>1<" in html
