"""The member page's purchase history and figures, the member list's sortable columns, and the
ledger's reasons in words with links to receipts and top-up slips."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from patron.ledger import services as ledger
from patron.ledger.models import Transaction
from patron.members import views as member_views
from patron.members.models import Member
from patron.members.services import register_member
from patron.program.services import apply_program
from patron.promotions.services import set_member_tier
from patron.sales.models import Sale
from patron.sales.profile import category_names
from tests.console.conftest import logged_in

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SHANGHAI = ZoneInfo("Asia/Shanghai")
PROGRAM = {
    "categories": ["rooms", "dishes", "drinks"],
    "tiers": [
        {"code": "normal", "name": "普通会员", "rank": 0},
        {"code": "silver", "name": "银卡会员", "rank": 1},
        {"code": "gold", "name": "金卡会员", "rank": 2},
    ],
    "points": {
        "earn": {"per_amount": 100, "points": 1},  # 1 point per yuan paid
        "redeem_cash": {"points": 100, "value": 100, "max_share_percent": 50},
        "expiry": {"policy": "never"},
        "pending_days": 0,
    },
    "promotions": [],
    "coupon_templates": [],
}
ROOM = {
    "sku": "ROOM-STD",
    "name": "湖景标准间",
    "category": "rooms",
    "quantity": 1,
    "unit_price": 32000,
}
FISH = {
    "sku": "DISH-FISH",
    "name": "西湖醋鱼",
    "category": "dishes",
    "quantity": 2,
    "unit_price": 5000,
}
TEA = {"sku": "TEA-LJ", "name": "龙井", "category": "drinks", "quantity": 1, "unit_price": 2000}


@pytest.fixture
def program(system, stores):
    apply_program(system, PROGRAM)


def sell(
    api: Client, member: Member, lines: list[dict], *, days_ago: int, store: str = "S1", **body
):
    occurred = (timezone.now() - dt.timedelta(days=days_ago)).replace(microsecond=0)
    payload = {
        "member": member.pk,
        "store": store,
        "lines": lines,
        "occurred_at": occurred.isoformat(),
        **body,
    }
    response = api.post(
        "/api/v1/sales",
        payload,
        content_type="application/json",
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.content
    return response.json()


def refund_all(api: Client, sale_id: int) -> dict:
    response = api.post(
        f"/api/v1/sales/{sale_id}/refunds",
        {"all": True},
        content_type="application/json",
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.content
    return response.json()


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def section(html: str, element_id: str) -> str:
    """The HTML of the element with this id, up to the next card."""
    start = html.index(f'id="{element_id}"')
    end = re.compile(r'<div class="card[" ]').search(html, start + 1)
    return html[start : end.start() if end else len(html)]


# --- the member page -------------------------------------------------------------------------


@pytest.fixture
def shopper(system, program, api, cashier):
    """Three visits worked by hand: a room (320 yuan, 3 days ago, S1), two fish and a tea
    (120 yuan, 2 days ago, S2, rung up by the cashier), a tea (20 yuan, yesterday) refunded."""
    member = register_member(system, {"mobile": "13800138000", "name": "王小明", "store": "S1"})
    room = sell(api, member, [ROOM], days_ago=3)
    dinner = sell(api, member, [FISH, TEA], days_ago=2, store="S2")
    Sale.objects.filter(pk=dinner["id"]).update(user=cashier.staff.user)  # as the till does
    tea = sell(api, member, [TEA], days_ago=1)
    refund_all(api, tea["id"])
    return member, {"room": room, "dinner": dinner, "tea": tea}


def test_the_member_page_lists_purchases_newest_first_with_receipt_links(hq_client, shopper):
    member, sales = shopper
    html = hq_client.get(f"/members/{member.pk}/").content.decode()
    history = section(html, "member-sales")
    order = [int(found) for found in re.findall(r'data-sale="(\d+)"', history)]
    assert order == [sales["tea"]["id"], sales["dinner"]["id"], sales["room"]["id"]]
    for sale in sales.values():
        assert f'href="/cashier/sales/{sale["id"]}/"' in history
    text = text_of(history)
    assert "湖景标准间 ×1" in text
    assert "西湖醋鱼 ×2, 龙井 ×1" in text
    assert "滨江店" in text and "西湖店" in text
    assert "cashier1" in text  # the cashier who rang up the dinner (no full name: user name)
    assert "API key tests" in text
    # The refunded tea is marked, with what went back.
    assert 'data-status="refunded"' in history and 'data-refunded="2000"' in history
    assert "¥320.00" in text and "¥120.00" in text


def test_the_member_page_shows_the_figures_worked_by_hand(hq_client, shopper):
    member, sales = shopper
    html = hq_client.get(f"/members/{member.pk}/").content.decode()
    figures = section(html, "member-figures")

    def figure(name: str) -> str:
        return text_of(re.search(rf'data-figure="{name}">(.*?)</dd>', figures, re.S)[1]).strip()

    # Three visits; 320 + 120 + 20 - 20 refunded = 440 yuan; 44000 // 3 fen a ticket.
    assert figure("visits") == "3"
    assert figure("spend") == "¥440.00"
    assert figure("average_ticket") == "¥146.66"
    last = dt.datetime.fromisoformat(sales["tea"]["occurred_at"]).astimezone(SHANGHAI)
    assert figure("last_visit") == last.strftime("%Y-%m-%d %H:%M")
    first = dt.datetime.fromisoformat(sales["room"]["occurred_at"]).astimezone(SHANGHAI)
    assert figure("first_visit") == first.strftime("%Y-%m-%d %H:%M")
    # Rooms 320, dishes 100, drinks 20 (the refunded tea does not count), by display name.
    names = category_names(member.merchant_id, ["rooms", "dishes", "drinks"])
    shown = re.findall(r'class="badge badge-tag">([^<]*)<', figures)
    assert shown == [names["rooms"], names["dishes"], names["drinks"]], figures
    # Balances and tier are on the same page: 440 points earned, 20 taken back.
    assert 'data-figure="points">440<' in html
    assert "普通会员" in html


def test_the_purchase_history_pages_through_older_sales(hq_client, system, program, api):
    member = register_member(system, {"mobile": "13800138000", "name": "常客"})
    ids = [sell(api, member, [TEA], days_ago=20 - n)["id"] for n in range(12)]
    first = section(hq_client.get(f"/members/{member.pk}/").content.decode(), "member-sales")
    older = re.search(r'rel="next" href="([^"#]+)#member-sales"', first)
    assert older and "sales_cursor=" in older.group(1)
    second = section(
        hq_client.get(
            f"/members/{member.pk}/" + older.group(1).replace("&amp;", "&")
        ).content.decode(),
        "member-sales",
    )
    shown = [int(i) for i in re.findall(r'data-sale="(\d+)"', first + second)]
    assert shown == list(reversed(ids))
    assert "12 sales" in text_of(first) and 'rel="next"' not in second


def test_a_member_without_purchases_has_an_empty_history(hq_client, system, program):
    member = register_member(system, {"mobile": "13800138000"})
    html = hq_client.get(f"/members/{member.pk}/").content.decode()
    assert "No purchases yet." in html
    assert 'data-figure="visits">0<' in html


def test_a_store_manager_sees_only_their_stores_sales(manager, shopper):
    member, sales = shopper
    html = logged_in(manager).get(f"/members/{member.pk}/").content.decode()
    shown = {int(i) for i in re.findall(r'data-sale="(\d+)"', section(html, "member-sales"))}
    assert shown == {sales["room"]["id"], sales["tea"]["id"]}  # the S2 dinner is not theirs


def test_the_chinese_page_names_everything_in_chinese(hq, shopper):
    member, _sales = shopper
    html = logged_in(hq, "zh-hans").get(f"/members/{member.pk}/").content.decode()
    for words in (
        "消费记录",
        "到店次数",
        "客单价",
        "最近到店",
        "偏好品类",
        "已退款",
        "西湖醋鱼 ×2、龙井 ×1",
    ):
        assert words in html


# --- the member list's sortable columns ------------------------------------------------------


@pytest.fixture
def ranked(system, hq, program, api):
    """A: nothing; B: silver, 520 points, a sale yesterday; C: gold, 120 points, 200 yuan of
    stored value, a sale 3 days ago; D: nothing. Registered in that order."""
    make = [
        register_member(system, {"mobile": f"1380013800{n}", "name": name})
        for n, name in enumerate("ABCD")
    ]
    a, b, c, d = make
    set_member_tier(hq, b, "silver")
    set_member_tier(hq, c, "gold")
    ledger.adjust_points(system, b, 500, reason="opening", key="b-points")
    ledger.adjust_points(system, c, 100, reason="opening", key="c-points")
    ledger.top_up(system, c, 20000, key="c-topup")
    sell(api, b, [TEA], days_ago=1)
    sell(api, c, [TEA], days_ago=3)
    return {"A": a, "B": b, "C": c, "D": d}


def listed(client: Client, **params) -> str:
    response = client.get("/members/", params)
    return "".join(member.name for member, _mobile in response.context["rows"])


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("tier", "ADBC"),
        ("-tier", "CBDA"),
        ("points", "ADCB"),
        ("-points", "BCDA"),
        ("stored_value", "ABDC"),
        ("-stored_value", "CDBA"),
        # Members who never came sort first going up, last going down.
        ("last_visit", "ADCB"),
        ("-last_visit", "BCDA"),
    ],
)
def test_each_column_sorts_both_ways(hq_client, ranked, sort, order):
    assert listed(hq_client, sort=sort) == order


def test_the_cells_show_tier_names_balances_and_local_times(hq_client, ranked):
    html = hq_client.get("/members/", {"sort": "-points"}).content.decode()
    cells = re.findall(r'data-cell="(\w+)">([^<]*)<', html)
    # Five columns: tier, points, stored value, lifecycle (insight), last visit.
    row_b = dict(cells[:5])
    assert row_b["tier"] == "银卡会员" and row_b["points"] == "520"
    assert row_b["lifecycle"] == "Excited"  # scored by their sale (patron.insight)
    assert row_b["stored_value"] == "¥0.00"
    stats_b = ranked["B"].stats
    assert row_b["last_visit"] == stats_b.last_visit_at.astimezone(SHANGHAI).strftime(
        "%Y-%m-%d %H:%M"
    )
    row_a = dict(cells[15:20])
    assert (row_a["tier"], row_a["points"], row_a["last_visit"]) == ("普通会员", "0", "—")
    assert row_a["lifecycle"] == "—"  # no sale, no refresh yet: not scored


def test_header_links_turn_the_sort_round_and_keep_the_filters(hq_client, ranked):
    html = hq_client.get("/members/", {"sort": "points", "status": "active"}).content.decode()
    header = re.search(r'data-column="points" aria-sort="ascending">\s*<a href="([^"]+)"', html)
    assert header is not None
    assert "sort=-points" in header[1] and "status=active" in header[1]
    # A column not sorted yet sorts numbers biggest first on the first click.
    assert re.search(r'data-column="stored_value">\s*<a href="\?[^"]*sort=-stored_value', html)
    # The search form keeps the sort when the filters change.
    assert '<input type="hidden" name="sort" value="points">' in html


def test_an_unknown_sort_is_ignored(hq_client, ranked):
    assert listed(hq_client, sort="mobile; DROP") == "DCBA"  # newest first, as always
    assert listed(hq_client, sort="-" * 60) == "DCBA"


def test_pages_of_a_sorted_list_never_repeat_or_skip_anyone(hq_client, ranked, monkeypatch, system):
    for n in range(5):  # more members with the same (zero) balances: ties across pages
        register_member(system, {"mobile": f"1390013900{n}", "name": f"E{n}"})
    monkeypatch.setattr(member_views, "PAGE_SIZE", 3)
    for sort in ("points", "-points", "last_visit", "-tier"):
        pages, cursor = [], ""
        for _page in range(3):
            response = hq_client.get("/members/", {"sort": sort, "cursor": cursor})
            pages.append("".join(member.name for member, _mobile in response.context["rows"]))
            cursor = response.context["page"].next_cursor
        assert cursor is None, sort
        names = re.findall(r"E\d|[A-D]", "".join(pages))
        assert sorted(names) == sorted(["A", "B", "C", "D", *(f"E{n}" for n in range(5))]), sort
        back = hq_client.get(
            "/members/", {"sort": sort, "cursor": response.context["page"].previous_cursor}
        )
        assert "".join(m.name for m, _mobile in back.context["rows"]) == pages[1], sort


# --- ledger reasons and links ----------------------------------------------------------------


def reasons(html: str) -> list[str]:
    """(reason, reference) of each row of the ledger history, newest first."""
    rows = re.findall(r"<tr data-transaction=.*?</tr>", section(html, "ledger-entries"), re.S)
    shown = []
    for row in rows:
        cell = re.findall(r"<td>(.*?)</td>", row, re.S)[-1]
        shown.append(text_of(cell).strip())
    return shown


def test_ledger_rows_name_their_reason_and_link_to_the_receipt_or_slip(
    hq, hq_client, shopper, system, api
):
    member, sales = shopper
    spend = sell(api, member, [ROOM], days_ago=0, points_to_redeem=100)
    topup = ledger.top_up(hq, member, 10000, key="slip", payment_method="wechat")
    ledger.adjust_points(hq, member, 30, reason="生日补录", key="birthday")
    html = hq_client.get(f"/ledger/members/{member.pk}/").content.decode()
    tea, dinner, room = sales["tea"]["id"], sales["dinner"]["id"], sales["room"]["id"]
    # (The order of the newest rows depends on the second they fall in: compare as a set.)
    assert sorted(reasons(html)) == sorted(
        [
            "Adjustment 生日补录",
            f"Top-up · Top-up slip #{topup.pk} Paid by WeChat Pay",
            f"Refund · Refund of receipt #{tea}",
            f"Sale · Receipt #{spend['id']}",  # points earned on the room
            f"Points used as cash · Receipt #{spend['id']}",
            f"Sale · Receipt #{tea}",
            f"Sale · Receipt #{dinner}",
            f"Sale · Receipt #{room}",
        ]
    )
    assert f'href="/cashier/sales/{tea}/"' in section(html, "ledger-entries")
    assert f'href="/ledger/topup/{topup.pk}/"' in html
    for raw in ("points offset", ">sale<", ">refund<", "stored value payment"):
        assert raw not in html


def test_the_chinese_ledger_says_sale_refund_top_up_in_chinese(hq, shopper):
    member, _sales = shopper
    ledger.top_up(hq, member, 10000, key="slip", payment_method="cash")
    html = logged_in(hq, "zh-hans").get(f"/ledger/members/{member.pk}/").content.decode()
    shown = " ".join(reasons(html))
    for words in ("销售", "退款", "充值", "小票 #"):
        assert words in shown


def test_the_member_page_shows_recent_movements_with_links(hq_client, shopper):
    member, sales = shopper
    html = hq_client.get(f"/members/{member.pk}/").content.decode()
    recent = section(html, "member-movements")
    assert f"Refund of receipt #{sales['tea']['id']}" in recent
    assert f'href="/cashier/sales/{sales["room"]["id"]}/"' in recent


def test_a_role_that_may_not_open_receipts_sees_the_reason_without_a_link(marketer, shopper):
    member, sales = shopper
    html = logged_in(marketer).get(f"/members/{member.pk}/").content.decode()
    assert f"Receipt #{sales['room']['id']}" in html
    assert "/cashier/sales/" not in html


def test_every_kind_of_movement_has_words(hq):
    from patron.ledger.references import reason_words

    for kind in Transaction.Kind.values:
        assert reason_words(kind) and reason_words(kind) != kind
