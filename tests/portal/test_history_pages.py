"""/m/history and its receipts (issue 18 §4): the member's purchases, refunds, top-ups and
points movements in words, newest first, paged; a receipt of another member is not found."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patron.ledger import services as ledger
from patron.ledger.models import LedgerPolicy
from patron.members.services import register_member
from patron.program.services import apply_program
from patron.sales.models import Sale
from patron.wallet import services as wallet
from tests.portal.conftest import log_in_as
from tests.sales.conftest import BASKET, PROGRAM

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def post(client: Client, path: str, body: dict):
    return client.post(path, body, content_type="application/json")


@pytest.fixture
def program(system, stores):
    apply_program(system, PROGRAM)
    policy = LedgerPolicy.objects.get(merchant=system.merchant)
    policy.topup_bonus = [{"min": 10000, "bonus": 1500}]
    policy.save()


@pytest.fixture
def busy_member(system, hq, program, portal_member, api):
    """A top-up with bonus, a staff adjustment, an expired lot, a sale with a discount and
    points used and earned, and a refund of one of its dishes, in that order."""
    member = portal_member
    wallet.top_up(system, member, 20000, key="t1", payment_method="wechat")
    ledger.adjust_points(hq, member, 800, reason="补偿：上次上菜太慢", key="a1")
    long_ago = timezone.now() - dt.timedelta(days=3 * 365)
    ledger.earn_points(system, member, 40, key="old", context=ledger.Context(occurred_at=long_ago))
    ledger.expire_due_lots(timezone.now(), system.merchant)
    body = {
        "member": member.pk,
        "store": "S1",
        "lines": BASKET,
        "codes": ["SPRING10"],
        "points_to_redeem": 300,
    }
    sale = post(api, "/api/v1/sales", body)
    assert sale.status_code == 201, sale.content
    refund = post(
        api,
        f"/api/v1/sales/{sale.json()['id']}/refunds",
        {"lines": [{"sku": "DISH-FISH", "quantity": 1}]},
    )
    assert refund.status_code == 201, refund.content
    return member


def test_history_lists_everything_in_words_newest_first(phone, busy_member):
    page = phone.get("/m/history")
    assert page.status_code == 200
    html = page.content.decode()
    sale = Sale.objects.get(member=busy_member)
    # The expiry happened on the lot's expiry date, long before the rest.
    order = ["消费退款", "<strong>消费</strong>", "门店调整积分", "储值充值", "积分过期"]
    positions = [html.index(words) for words in order]
    assert positions == sorted(positions), "newest first"
    assert "西湖店" in html
    assert f"¥{sale.total // 100}." in html  # what was paid
    assert "-300" in html and f"+{sale.points_earned}" in html  # points used and earned
    assert "补偿：上次上菜太慢" in html  # the staff's reason
    assert "-40" in html  # the expired lot
    assert "¥200.00" in html and "¥15.00" in html  # the top-up and its bonus
    assert "微信" in html  # how the top-up was paid
    for code in (">sale<", ">topup<", ">refund<", "expiry", "adjust<", "earn<"):
        assert code not in html
    assert html.count("/m/history/receipts/") == 2  # the sale and its refund


def test_filters_are_plain_links(phone, busy_member):
    points = phone.get("/m/history?kind=points").content.decode()
    assert "积分过期" in points and "消费获得积分" in points and "储值充值" not in points
    stored = phone.get("/m/history?kind=stored_value").content.decode()
    assert "储值充值" in stored and "积分过期" not in stored
    purchases = phone.get("/m/history?kind=purchases").content.decode()
    assert "消费退款" in purchases and "储值充值" not in purchases and "积分过期" not in purchases
    assert 'href="/m/history?kind=points"' in points
    assert phone.get("/m/history?kind=nonsense").status_code == 200  # the full list


def test_history_in_english(phone, busy_member):
    phone.post("/i18n/setlang/", {"language": "en", "next": "/m/history"})
    html = phone.get("/m/history").content.decode()
    assert "Refund of a purchase" in html and "Points expired" in html and "Top-up" in html


def test_receipt_shows_lines_discounts_and_points(phone, busy_member):
    html = phone.get("/m/history").content.decode()
    start = html.index("/m/history/receipts/")
    url = html[start : html.index('"', start)]
    receipt = phone.get(url)
    assert receipt.status_code == 200
    text = receipt.content.decode()
    sale = Sale.objects.get(member=busy_member)
    assert "ROOM-STD" in text and "DISH-FISH" in text  # lines without names show their SKU
    assert "春季九折" in text  # the promotion by name
    assert f"{sale.points_earned:,}" in text
    assert "退款" in text  # the refund of one dish is listed


def test_another_members_receipt_is_not_found(phone, busy_member, system, stores):
    other = register_member(system, {"mobile": "13900000000", "store": "S1"})
    html = phone.get("/m/history").content.decode()
    start = html.index("/m/history/receipts/")
    url = html[start : html.index('"', start)]
    sale = Sale.objects.get(member=busy_member)
    stranger = log_in_as(Client(), other)
    assert stranger.get(url).status_code == 404  # a reference signed for someone else
    assert phone.get(f"/m/history/receipts/{sale.pk}").status_code == 404  # a bare id
    assert phone.get(url + "x").status_code == 404  # tampered


def test_history_pages_twenty_at_a_time(phone, system, portal_member):
    for number in range(25):
        ledger.adjust_points(
            system, portal_member, number + 1, reason=f"第{number}次", key=f"k{number}"
        )
    first = phone.get("/m/history").content.decode()
    assert first.count("门店调整积分") == 20
    assert "第24次" in first and "第0次" not in first
    assert 'href="?page=2"' in first
    second = phone.get("/m/history?page=2").content.decode()
    assert second.count("门店调整积分") == 5 and "第0次" in second


def test_history_needs_a_login(portal_member):
    answer = Client().get("/m/history")
    assert answer.status_code == 302 and "/m/login" in answer["Location"]


def test_coded_reasons_are_never_shown(phone, system, portal_member):
    ledger.earn_points(
        system,
        portal_member,
        88,
        key="bday",
        pending_days=0,
        context=ledger.Context(source="birthday", reason="birthday"),
    )
    wallet.top_up(system, portal_member, 5000, key="t2", payment_method="cash")
    refund = ledger.Context(reason="card_refund")
    ledger.refund_card(system, portal_member, key="cr", context=refund)
    html = phone.get("/m/history").content.decode()
    assert "生日赠送积分" in html and "+88" in html
    assert "储值退卡退款" in html and "-¥50.00" in html
    assert "birthday" not in html and "card_refund" not in html


def test_a_page_costs_the_same_queries_however_many_rows(phone, system, api, busy_member):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert phone.get("/m/history").status_code == 200
        return len(captured)

    before = queries()
    for number in range(3):
        wallet.top_up(system, busy_member, 1000, key=f"more{number}")
        ledger.adjust_points(system, busy_member, 5, reason="再来一次", key=f"adj{number}")
        body = {"member": busy_member.pk, "store": "S2", "lines": BASKET[2:]}
        assert post(api, "/api/v1/sales", body).status_code == 201
    assert queries() == before
