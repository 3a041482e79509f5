"""A member's ledger history at scale (issue 21): keyset pages in the console and the API
(`cursor` / `next_cursor`), stable when movements arrive, filters kept, counts estimated past
1,000 on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from patron.core.keyset import AFTER, make_cursor
from patron.members.services import register_member
from patron.wallet.views import HISTORY_PAGE_SIZE
from tests.scale_lists_support import NEXT_LINK, PREVIOUS_LINK, add_movements, link, walk_pages

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def member(system, stores):
    return register_member(system, {"mobile": "13800138000", "store": "S1"})


@pytest.fixture
def hq_client(hq) -> Client:
    client = Client()
    client.force_login(hq.staff.user)
    return client


def entry_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-entry="(\d+)"', html)]


def ledger(api: Client, member, **params) -> dict:
    response = api.get(f"/api/v1/members/{member.pk}/ledger", params)
    assert response.status_code == 200, response.content
    return response.json()


def test_console_pages_walk_every_movement_newest_first(hq_client, member):
    ids = add_movements(member, HISTORY_PAGE_SIZE * 2 + 3)
    pages = list(walk_pages(hq_client, f"/ledger/members/{member.pk}/"))
    assert len(pages) == 3
    assert [n for html in pages for n in entry_ids(html)] == ids[::-1]
    back = hq_client.get(f"/ledger/members/{member.pk}/" + link(pages[2], PREVIOUS_LINK))
    assert entry_ids(back.content.decode()) == entry_ids(pages[1])


def test_console_filters_stay_on_the_next_page(hq_client, member):
    add_movements(member, HISTORY_PAGE_SIZE + 1)
    first = hq_client.get(f"/ledger/members/{member.pk}/", {"asset": "points"}).content.decode()
    assert "asset=points" in link(first, NEXT_LINK)
    none = hq_client.get(f"/ledger/members/{member.pk}/", {"asset": "stored_value"})
    assert entry_ids(none.content.decode()) == []


def test_console_next_page_stays_put_when_movements_arrive(hq_client, member):
    add_movements(member, HISTORY_PAGE_SIZE * 2)
    url = f"/ledger/members/{member.pk}/"
    next_page = url + link(hq_client.get(url).content.decode(), NEXT_LINK)
    before = entry_ids(hq_client.get(next_page).content.decode())
    add_movements(member, 7, start=timezone.now())
    assert entry_ids(hq_client.get(next_page).content.decode()) == before


def test_api_cursor_pages_through_every_entry(api, member):
    ids = add_movements(member, 25)
    seen, cursor = [], ""
    while True:
        body = ledger(api, member, page_size=10, cursor=cursor)
        assert (body["count"], body["count_exact"]) == (25, True)
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]


def test_api_page_numbers_still_work_and_hand_on_a_cursor(api, member):
    ids = add_movements(member, 25)
    second = ledger(api, member, page_size=10, page=2)
    assert [item["id"] for item in second["items"]] == ids[::-1][10:20]
    third = ledger(api, member, page_size=10, cursor=second["next_cursor"])
    assert [item["id"] for item in third["items"]] == ids[::-1][20:]
    assert third["next_cursor"] is None


def test_api_cursor_is_not_moved_by_new_entries(api, member):
    add_movements(member, 20, start=timezone.now() - dt.timedelta(days=2))
    first = ledger(api, member, page_size=10)
    before = ledger(api, member, page_size=10, cursor=first["next_cursor"])["items"]
    add_movements(member, 5, start=timezone.now())
    assert ledger(api, member, page_size=10, cursor=first["next_cursor"])["items"] == before


@pytest.mark.parametrize("cursor", ["garbage!", make_cursor(AFTER, ["yesterday", 1])])
def test_api_rejects_a_cursor_it_did_not_make(api, member, cursor):
    response = api.get(f"/api/v1/members/{member.pk}/ledger", {"cursor": cursor})
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "cursor"


def test_past_a_thousand_the_count_is_an_estimate(api, hq_client, member):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite counts exactly: it has no planner estimate")
    add_movements(member, 1200)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE ledger_entry")
    body = ledger(api, member, page_size=5)
    assert body["count_exact"] is False and body["count"] > 1000
    html = hq_client.get(f"/ledger/members/{member.pk}/").content.decode()
    assert "data-estimate" in html and re.search(r"约\s*[\d,]+", html)
