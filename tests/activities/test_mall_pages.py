# ruff: noqa: F811
# (the fixtures imported from mall_support are the tests' parameters)
"""The points mall's console pages (rewards, queue, report, redeem for a member, the till's
button) and the member's /m/mall (rewards they can afford first, redeem, my redemptions)."""

from __future__ import annotations

import pytest
from django.test import Client

from patron.activities import mall
from patron.activities.models import MallPayment, Redemption
from patron.sales.selectors import member_panel
from tests.activities.mall_support import left, member, points_of, rewards  # noqa: F401
from tests.portal.conftest import log_in_as

pytestmark = pytest.mark.django_db


def logged_in(actor) -> Client:
    client = Client()
    client.force_login(actor.staff.user)
    return client


def test_rewards_page_shows_live_stock(hq, member, rewards):
    mall.redeem(hq, member, rewards["mug"], key="k1")
    page = logged_in(hq).get("/activities/mall/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "马克杯" in html and "data-left>49<" in html and "实物" in html


def test_cashier_redeems_for_a_member_paying_the_cash_part_by_wechat(cashier, member, rewards):
    client = logged_in(cashier)
    page = client.get("/activities/mall/redeem/", {"q": member.card_no})
    assert page.status_code == 200 and b'data-reward="mug"' in page.content
    assert member.mobile.encode() not in page.content  # a cashier sees the mobile masked

    answer = client.post(
        "/activities/mall/redeem/",
        {"member": member.pk, "reward": "mug", "method": "wechat", "nonce": "n1", "from": "till"},
    )

    done = Redemption.objects.get()
    assert answer.status_code == 302 and answer["Location"].endswith(f"/{done.pk}/?from=till")
    assert points_of(member) == 10000 - 800
    assert list(MallPayment.objects.values_list("method", "amount", "store__code")) == [
        ("wechat", 990, "S1")
    ]
    client.post(  # the same form sent twice is one redemption
        "/activities/mall/redeem/",
        {"member": member.pk, "reward": "mug", "method": "wechat", "nonce": "n1"},
    )
    assert Redemption.objects.count() == 1


def test_a_refused_redemption_is_a_message_not_a_crash(cashier, system, rewards, stores):
    from tests.activities.mall_support import new_member

    poor = new_member(system, "13800138055", 5)
    page = logged_in(cashier).post(
        "/activities/mall/redeem/", {"member": poor.pk, "reward": "mug", "nonce": "n2"}
    )
    assert page.status_code == 200 and "积分不足" in page.content.decode()
    assert not Redemption.objects.exists()


def test_queue_fulfils_with_tracking_and_manager_cancels(hq, member, rewards):
    client = logged_in(hq)
    shipped = mall.redeem(hq, member, rewards["mug"], key="k1")
    cancelled = mall.redeem(hq, member, rewards["mug"], key="k2")
    queue = client.get("/activities/mall/redemptions/")
    assert f'data-redemption="{shipped.pk}"'.encode() in queue.content

    client.post(f"/activities/mall/redemptions/{shipped.pk}/fulfil", {"tracking_no": "SF9"})
    client.post(f"/activities/mall/redemptions/{cancelled.pk}/cancel")

    shipped.refresh_from_db()
    cancelled.refresh_from_db()
    assert (shipped.status, shipped.tracking_no, shipped.cash_paid) == ("fulfilled", "SF9", 990)
    assert cancelled.status == "cancelled" and left(rewards["mug"]) == 49
    detail = client.get(f"/activities/mall/redemptions/{shipped.pk}/").content.decode()
    assert "已寄出" in detail and "SF9" in detail


def test_a_cashier_may_not_cancel(cashier, member, rewards):
    done = mall.redeem(cashier, member, rewards["mug"], key="k1")
    answer = logged_in(cashier).post(f"/activities/mall/redemptions/{done.pk}/cancel")
    assert answer.status_code == 403
    done.refresh_from_db()
    assert done.status == "pending"


def test_report_sums_points_per_reward_and_exports(hq, member, rewards):
    mall.redeem(hq, member, rewards["mug"], key="k1")
    mall.redeem(hq, member, rewards["free_night"], key="k2")
    cancelled = mall.redeem(hq, member, rewards["mug"], key="k3")
    mall.cancel(hq, cancelled)
    client = logged_in(hq)
    html = client.get("/activities/mall/report/").content.decode()
    assert 'data-points="800"' in html and 'data-points="5000"' in html
    workbook = client.get("/activities/mall/report/", {"format": "xlsx"})
    assert workbook["Content-Type"].startswith("application/vnd.openxmlformats")
    future = client.get("/activities/mall/report/", {"date_from": "2099-01-01"}).content
    assert b"data-points" not in future


def test_the_till_member_card_has_the_mall_button(cashier, member, rewards):
    panel = member_panel(cashier, member)
    assert any(f"member={member.pk}" in extra and "积分兑换" in extra for extra in panel.extras)


def test_member_page_lists_affordable_rewards_first_and_redeems(system, member, rewards):
    phone = log_in_as(Client(HTTP_USER_AGENT="MicroMessenger/8.0"), member)
    from patron.ledger.services import spend_points

    spend_points(system, member, 6000, key="down")  # 4000 left: the mug, not the night
    page = phone.get("/m/mall").content.decode()
    assert page.index('data-reward="mug"') < page.index('data-reward="free_night"')
    assert "积分不足" in page

    confirm = phone.get("/m/mall/mug").content.decode()
    once = confirm.split('name="once" value="')[1][:32]
    answer = phone.post("/m/mall/mug", {"once": once})
    phone.post("/m/mall/mug", {"once": once})  # a double tap redeems once

    assert answer.status_code == 302 and answer["Location"] == "/m/mall"
    assert Redemption.objects.count() == 1 and points_of(member) == 4000 - 800
    page = phone.get("/m/mall").content.decode()
    assert "我的兑换" in page and "待处理" in page
    assert phone.get("/m/mall/free_night").status_code == 200
    assert phone.post("/m/mall/free_night", {"once": "0" * 32}).status_code == 200
    assert Redemption.objects.count() == 1


def test_member_pages_need_a_login(member, rewards):
    answer = Client().get("/m/mall")
    assert answer.status_code == 302 and "/m/login" in answer["Location"]


def test_member_page_in_english(member, rewards):
    phone = log_in_as(Client(HTTP_ACCEPT_LANGUAGE="en"), member)
    phone.cookies["django_language"] = "en"
    page = phone.get("/m/mall").content.decode()
    assert "Points mall" in page and "My redemptions" in page


def test_the_members_ledger_names_the_redemption_and_links_it(hq, member, rewards):
    from patron.ledger.references import reason_words, references

    done = mall.redeem(hq, member, rewards["mug"], key="k1")

    assert reason_words(done.spend.kind, done.spend.source) == "积分兑换"
    link = references(hq, [done.spend])[done.spend.pk]
    assert link.label == "积分兑换 马克杯"
    assert link.url == f"/activities/mall/redemptions/{done.pk}/"


def test_the_consoles_points_history_shows_the_redemption_and_its_return(hq, member, rewards):
    done = mall.redeem(hq, member, rewards["mug"], key="k1")
    mall.cancel(hq, done)
    page = logged_in(hq).get(f"/ledger/members/{member.pk}/").content.decode()
    assert "积分兑换" in page and "马克杯" in page
    assert f"/activities/mall/redemptions/{done.pk}/" in page
    history = log_in_as(Client(), member).get("/m/history").content.decode()
    assert "积分兑换" in history and "马克杯" in history
