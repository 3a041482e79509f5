"""The card page's activities block: a link to each activity the merchant offers now, none to
one it does not, and every activity page leads back to the card."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from patron.activities import events_service, lottery, mall
from patron.activities.models import Lottery, Reward
from patron.ledger.services import earn_points
from patron.portal import activity_selectors
from patron.program.services import apply_program
from patron.promotions.codes import display_code
from tests.activities import lottery_support, mall_support

pytestmark = pytest.mark.django_db

LINKS = ("link-mall", "link-lottery", "link-checkin", "link-events")


def offer_everything(system) -> None:
    apply_program(
        system,
        {
            "coupon_templates": [mall_support.ROOM_NIGHT, *lottery_support.COUPONS],
            "rewards": [mall_support.MUG],
            "lotteries": [lottery_support.WHEEL],
            "checkin": {"points": 5},
        },
    )
    data = events_service.EventInput(
        name="品茶会", starts_at=timezone.now() + dt.timedelta(days=3), place="二楼", capacity=5
    )
    events_service.create_event(system, "TEA", data)


def test_no_activities_no_block(phone):
    html = phone.get("/m/").content.decode()
    assert 'id="activities"' not in html


def test_links_to_each_activity_offered(system, phone):
    offer_everything(system)
    html = phone.get("/m/").content.decode()
    assert all(f'id="{link}"' in html for link in LINKS)
    assert "积分商城" in html and "每日签到" in html and "会员活动" in html
    for url in ("/m/mall", "/m/lottery", "/m/lottery/wheel", "/m/checkin", "/m/events"):
        page = phone.get(url)
        assert page.status_code == 200 and 'id="back-to-card"' in page.content.decode(), url


def test_an_ended_lottery_is_not_linked(system, phone):
    offer_everything(system)
    wheel = Lottery.objects.get(code="wheel")
    lottery.end_lottery(wheel)
    html = phone.get("/m/").content.decode()
    assert 'id="link-lottery"' not in html and 'id="link-mall"' in html


def test_the_checks_are_a_few_small_queries(system, portal_member, django_assert_max_num_queries):
    offer_everything(system)
    with django_assert_max_num_queries(4):
        found = activity_selectors.offered(portal_member)
    assert found.any and found.mall and found.lottery and found.checkin and found.events


def test_the_block_in_english(system, phone):
    offer_everything(system)
    html = phone.get("/m/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Activities" in html and "Points mall" in html and "Member events" in html
    assert "积分商城" not in html


def test_a_redeemed_coupon_code_reads_as_on_the_card(system, phone, portal_member):
    apply_program(
        system,
        {"coupon_templates": [mall_support.ROOM_NIGHT], "rewards": [mall_support.FREE_NIGHT]},
    )
    earn_points(system, portal_member, 5000, key="seed")
    reward = Reward.objects.get(code="free_night")
    done = mall.redeem(system, portal_member, reward, key="r1")
    html = phone.get("/m/mall").content.decode()
    assert display_code(done.coupon.code) in html and done.coupon.code not in html
