"""Reports split by owner (F-41): the discounts HQ's promotions and coupons and each store's
own gave, and the sales they influenced, on the reports page, its xlsx export and the API.

Hand-worked, all on day D, priorities hq10 (10) before s1off (20) before the coupon (100):

    #1 S1 walk-in 100.00        hq10 -10.00, s1off -5.00               -> 85.00
    #2 S2 walk-in 2 x 100.00    hq10 -20.00                            -> 180.00, then one
                                                    item refunded (-90.00): 90.00
    #3 S1 member 100.00         hq10 -10.00, s1off -5.00, 滨江店券 -10.00 -> 75.00

    HQ      3 discounts  40.00   sales #1 #2 #3 = 85.00 + 90.00 + 75.00 = 250.00
    西湖店  2 discounts  10.00   sales #1 #3    = 85.00 + 75.00         = 160.00
    滨江店  1 discount   10.00   sale #3 (its coupon redeemed at 西湖店)    =  75.00
"""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo

import openpyxl
import pytest
from django.test import Client
from django.utils import timezone

from patron.insight.dashboard import dashboard, window_for
from patron.members.services import register_member
from patron.program.services import apply_program
from patron.promotions.models import Coupon
from patron.promotions.services import issue_coupon
from patron.sales import services as sales

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
PROGRAM = {
    "categories": ["dishes"],
    "promotions": [
        {
            "code": "hq10",
            "name": "总部九折",
            "kind": "automatic",
            "benefit": {"type": "percent", "value": 10},
            "priority": 10,
        },
        {
            "code": "s1off",
            "name": "西湖店立减",
            "owner": "S1",
            "kind": "automatic",
            "condition": {"stores": ["S1"]},
            "benefit": {"type": "fixed", "value": 500},
            "priority": 20,
        },
    ],
    "coupon_templates": [
        {
            "code": "s2cup",
            "name": "滨江店券",
            "owner": "S2",
            "benefit": {"type": "fixed", "value": 1000},
            "valid_days": 30,
        }
    ],
    "checkout": {"backdate_days": 365},
}
EXPECTED = [
    {
        "owner": None,
        "name": "HQ",  # in English here (tests/promotions/conftest.py); 总部 in Chinese
        "discount": 4000,
        "applications": 3,
        "sales_count": 3,
        "sales": 25000,
    },
    {
        "owner": "S1",
        "name": "西湖店",
        "discount": 1000,
        "applications": 2,
        "sales_count": 2,
        "sales": 16000,
    },
    {
        "owner": "S2",
        "name": "滨江店",
        "discount": 1000,
        "applications": 1,
        "sales_count": 1,
        "sales": 7500,
    },
]


def sell(actor, store, when, quantity=1, *, buyer=None, codes=(), key):
    line = sales.LineInput(
        sku="DISH", name="菜", category="dishes", quantity=quantity, unit_price=10000
    )
    request = sales.SaleRequest(
        lines=[line], member=buyer.pk if buyer else None, store=store, occurred_at=when,
        codes=list(codes),
    )  # fmt: skip
    return sales.commit_sale(actor, request, key=key)


@pytest.fixture
def day(system, stores) -> dt.date:
    apply_program(system, PROGRAM)
    day = timezone.now().astimezone(SHANGHAI).date() - dt.timedelta(days=3)
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=SHANGHAI)
    buyer = register_member(system, {"mobile": "13800138001", "store": "S1"})
    coupon = issue_coupon(system, buyer, "s2cup")
    Coupon.objects.filter(pk=coupon.pk).update(issued_at=noon, valid_from=noon)
    first = sell(system, "S1", noon, key="o1")
    second = sell(system, "S2", noon, 2, key="o2")
    third = sell(system, "S1", noon, buyer=buyer, codes=[coupon.code], key="o3")
    assert [(d.code, d.amount) for d in first.discounts.order_by("pk")] == [
        ("hq10", 1000),
        ("s1off", 500),
    ]
    assert (first.total, second.total, third.total) == (8500, 18000, 7500)
    assert sorted(d.amount for d in third.discounts.all()) == [500, 1000, 1000]
    refund = sales.refund_sale(system, second, sales.RefundAsk(lines=(("DISH", 1),)), key="r2")
    assert refund.amount == 9000
    return day


def test_discounts_and_sales_influenced_per_owner_to_the_fen(system, hq, day):
    figures = dashboard(hq, window_for(hq, day, day))
    assert figures["owners"] == EXPECTED


def test_the_api_and_the_xlsx_export_say_the_same(api, hq, day):
    answer = api.get(
        "/api/v1/insight/dashboard",
        {"from": day.isoformat(), "to": day.isoformat()},
        headers={"Accept-Language": "en"},
    )
    assert answer.status_code == 200
    assert answer.json()["owners"] == EXPECTED
    client = Client(headers={"Accept-Language": "zh-hans"})
    client.force_login(hq.staff.user)
    page = client.get("/reports/", {"from": day.isoformat(), "to": day.isoformat()})
    html = page.content.decode()
    assert 'data-owner="S2"' in html and "滨江店" in html
    book = client.get(
        "/reports/export/owners.xlsx", {"from": day.isoformat(), "to": day.isoformat()}
    )
    sheet = openpyxl.load_workbook(io.BytesIO(book.content)).active
    rows = [row for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert [(r[0], r[1], float(r[2]), r[3], float(r[4])) for r in rows] == [
        ("总部", 3, 40.0, 3, 250.0),
        ("西湖店", 2, 10.0, 2, 160.0),
        ("滨江店", 1, 10.0, 1, 75.0),
    ]
