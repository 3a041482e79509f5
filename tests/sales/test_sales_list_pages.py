"""Sales lists at scale (issue 21): today's sales and a member's purchase history are keyset
pages (newer / older), kept in place when sales arrive, filters kept; the day's figures still
count every sale of the day, not only the page's."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from patron.members.services import register_member
from patron.sales.profile import HISTORY_PAGE_SIZE
from patron.sales.selectors import start_of_today
from patron.sales.views import TODAY_PAGE_SIZE
from tests.scale_lists_support import NEXT_LINK, PREVIOUS_LINK, add_sales, link, walk_pages

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def hq_client(hq) -> Client:
    client = Client()
    client.force_login(hq.staff.user)
    return client


def receipt_ids(html: str) -> list[int]:
    table = html[html.index('id="sales-table"') :]
    return [int(n) for n in re.findall(r'href="/cashier/sales/(\d+)/"', table)]


def history_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-sale="(\d+)"', html)]


def this_morning() -> dt.datetime:
    """Early today in the merchant's zone, so a page of sales a second apart stays today."""
    with timezone.override("Asia/Shanghai"):
        return start_of_today() + dt.timedelta(seconds=1)


def test_todays_sales_page_by_keyset_and_count_them_all(hq_client, merchant, stores):
    ids = add_sales(
        merchant,
        stores["S1"],
        TODAY_PAGE_SIZE + 5,
        start=this_morning(),
        step=dt.timedelta(seconds=1),
    )
    add_sales(merchant, stores["S1"], 3, start=this_morning() - dt.timedelta(days=1))  # yesterday
    pages = list(walk_pages(hq_client, "/cashier/sales/", {"store": "all"}))
    assert len(pages) == 2
    assert [n for html in pages for n in receipt_ids(html)] == ids[::-1]
    assert "store=all" in link(pages[0], NEXT_LINK)
    # The figures are the day's, on every page.
    assert all(f'data-figure="count">{TODAY_PAGE_SIZE + 5}<' in html for html in pages)
    back = hq_client.get("/cashier/sales/" + link(pages[1], PREVIOUS_LINK)).content.decode()
    assert receipt_ids(back) == receipt_ids(pages[0])


def test_todays_next_page_stays_put_when_sales_arrive(hq_client, merchant, stores):
    add_sales(
        merchant,
        stores["S1"],
        TODAY_PAGE_SIZE * 2,
        start=this_morning(),
        step=dt.timedelta(seconds=1),
    )
    first = hq_client.get("/cashier/sales/", {"store": "all"}).content.decode()
    before = receipt_ids(hq_client.get("/cashier/sales/" + link(first, NEXT_LINK)).content.decode())
    add_sales(merchant, stores["S2"], 4, start=timezone.now())
    after = receipt_ids(hq_client.get("/cashier/sales/" + link(first, NEXT_LINK)).content.decode())
    assert after == before


def test_member_history_pages_older_and_newer(hq_client, system, merchant, stores):
    member = register_member(system, {"mobile": "13800138000", "name": "常客"})
    ids = add_sales(merchant, stores["S1"], HISTORY_PAGE_SIZE * 2 + 1, member=member)
    url = f"/members/{member.pk}/"
    pages = list(walk_pages(hq_client, url))
    shown = [n for html in pages for n in history_ids(html)]
    assert shown == ids[::-1]
    assert "sales_cursor=" in link(pages[0], NEXT_LINK)
    back = hq_client.get(url + link(pages[2], PREVIOUS_LINK)).content.decode()
    assert history_ids(back) == history_ids(pages[1])
    add_sales(merchant, stores["S2"], 3, member=member, start=timezone.now())
    again = hq_client.get(url + link(pages[0], NEXT_LINK)).content.decode()
    assert history_ids(again) == history_ids(pages[1])


def test_member_history_count_is_an_estimate_past_a_thousand(hq_client, system, merchant, stores):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite counts exactly: it has no planner estimate")
    member = register_member(system, {"mobile": "13800138000"})
    add_sales(merchant, stores["S1"], 1100, member=member)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sales_sale")
    html = hq_client.get(f"/members/{member.pk}/").content.decode()
    section = html[html.index('id="member-sales"') :]
    assert "data-estimate" in section and re.search(r"约\s*[\d,]+", section)
    assert len(history_ids(section)) == HISTORY_PAGE_SIZE
