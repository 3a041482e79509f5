"""The audit log at scale (issue 21): keyset pages with next/previous, filters kept across
pages, pages that stay put when entries arrive, days in the merchant's zone, the object types
found without a DISTINCT over the log, and an estimated count past 1,000 on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client

from patron.core.keyset import AFTER, make_cursor
from patron.tenancy.models import AuditEntry, Role
from patron.tenancy.selectors import audit_object_types
from patron.tenancy.views import PAGE_SIZE
from tests.conftest import staff_actor
from tests.scale_lists_support import (
    NEXT_LINK,
    PREVIOUS_LINK,
    add_audit_entries,
    link,
    walk_pages,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def hq_client(hq) -> Client:
    client = Client()
    client.force_login(hq.staff.user)
    return client


def entry_ids(html: str) -> list[int]:
    """The ids of the page's entries, in the order shown."""
    return [int(n) for n in re.findall(r'<tr data-entry="(\d+)"', html)]


def test_pages_walk_the_whole_log_newest_first_without_repeats(hq_client, merchant):
    AuditEntry.objects.all().delete()
    ids = add_audit_entries(merchant, PAGE_SIZE * 2 + 7)  # one moment: the order is by id
    pages = list(walk_pages(hq_client, "/audit/"))
    assert len(pages) == 3
    assert [n for html in pages for n in entry_ids(html)] == ids[::-1]
    assert "page=" not in pages[1]  # no OFFSET page numbers any more


def test_previous_goes_back_to_the_same_rows(hq_client, merchant):
    AuditEntry.objects.all().delete()
    add_audit_entries(merchant, PAGE_SIZE * 3)
    first = hq_client.get("/audit/").content.decode()
    assert link(first, PREVIOUS_LINK) is None
    second = hq_client.get("/audit/" + link(first, NEXT_LINK)).content.decode()
    third = hq_client.get("/audit/" + link(second, NEXT_LINK)).content.decode()
    assert link(third, NEXT_LINK) is None
    back = hq_client.get("/audit/" + link(third, PREVIOUS_LINK)).content.decode()
    assert entry_ids(back) == entry_ids(second)
    back_again = hq_client.get("/audit/" + link(back, PREVIOUS_LINK)).content.decode()
    assert entry_ids(back_again) == entry_ids(first)


def test_a_filter_is_kept_on_every_page(hq_client, merchant):
    AuditEntry.objects.all().delete()
    add_audit_entries(merchant, PAGE_SIZE + 5, object_type="card")
    add_audit_entries(merchant, PAGE_SIZE, object_type="store")
    pages = list(walk_pages(hq_client, "/audit/", {"object_type": "card"}))
    assert len(pages) == 2
    assert "object_type=card" in link(pages[0], NEXT_LINK)
    assert len([n for html in pages for n in entry_ids(html)]) == PAGE_SIZE + 5
    assert all('value="card" selected' in html for html in pages)


def test_the_next_page_stays_put_when_entries_arrive(hq_client, merchant):
    AuditEntry.objects.all().delete()
    add_audit_entries(merchant, PAGE_SIZE * 2)
    first = hq_client.get("/audit/").content.decode()
    before = entry_ids(hq_client.get("/audit/" + link(first, NEXT_LINK)).content.decode())
    add_audit_entries(merchant, 20)  # newer entries: with OFFSET they would push rows down
    after = entry_ids(hq_client.get("/audit/" + link(first, NEXT_LINK)).content.decode())
    assert after == before


def test_a_day_is_the_merchants_day(hq_client, merchant):
    AuditEntry.objects.all().delete()
    late, early = add_audit_entries(merchant, 2)
    # 23:30 on 1 March in Shanghai is still 1 March there, though 15:30 UTC.
    AuditEntry.objects.filter(pk=late).update(at=dt.datetime(2026, 3, 1, 23, 30, tzinfo=SHANGHAI))
    AuditEntry.objects.filter(pk=early).update(at=dt.datetime(2026, 3, 2, 0, 10, tzinfo=SHANGHAI))
    first = hq_client.get("/audit/", {"date_from": "2026-03-01", "date_to": "2026-03-01"})
    second = hq_client.get("/audit/", {"date_from": "2026-03-02", "date_to": "2026-03-02"})
    assert entry_ids(first.content.decode()) == [late]
    assert entry_ids(second.content.decode()) == [early]


def test_object_types_are_each_listed_once(hq, merchant, stores):
    manager = staff_actor(hq, "m1", Role.STORE_MANAGER, stores["S1"])
    AuditEntry.objects.all().delete()
    for kind in ("store", "member", "card", "member", "card"):
        add_audit_entries(merchant, 3, object_type=kind)
    assert audit_object_types(hq) == ["card", "member", "store"]
    assert audit_object_types(manager) == ["card", "member", "store"]


def test_a_store_manager_pages_through_their_store_only(system, merchant, stores):
    manager = staff_actor(system, "m1", Role.STORE_MANAGER, stores["S1"])
    AuditEntry.objects.all().delete()
    mine = add_audit_entries(merchant, PAGE_SIZE + 3, store=stores["S1"])
    add_audit_entries(merchant, 10, store=stores["S2"], object_type="card")
    client = Client()
    client.force_login(manager.staff.user)
    pages = list(walk_pages(client, "/audit/"))
    assert len(pages) == 2
    assert [n for html in pages for n in entry_ids(html)] == mine[::-1]


def test_a_cursor_that_is_not_ours_shows_the_first_page_and_says_so(hq_client, merchant):
    AuditEntry.objects.all().delete()
    ids = add_audit_entries(merchant, 5)
    response = hq_client.get("/audit/", {"cursor": "not-a-cursor"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "data-cursor-ignored" in html and "此分页链接无效" in html
    assert entry_ids(html) == ids[::-1]


@pytest.mark.parametrize(
    "values", [["abc", 5], [{"t": "2026-01-01T00:00:00+08:00"}, "x"], [None, None], [[1], {"a": 1}]]
)
def test_a_hand_made_cursor_whose_values_do_not_fit_is_ignored_too(hq_client, merchant, values):
    ids = add_audit_entries(merchant, 3)
    response = hq_client.get("/audit/", {"cursor": make_cursor(AFTER, values)})
    assert response.status_code == 200
    html = response.content.decode()
    assert "data-cursor-ignored" in html and entry_ids(html)[:3] == ids[::-1]


def test_the_count_is_exact_when_small(hq_client, merchant):
    AuditEntry.objects.all().delete()
    add_audit_entries(merchant, 12)
    html = hq_client.get("/audit/").content.decode()
    assert 'data-count="12"' in html and "data-estimate" not in html


@pytest.mark.postgres
def test_past_a_thousand_the_count_is_an_estimate(hq_client, merchant):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite counts exactly: it has no planner estimate")
    add_audit_entries(merchant, 1500)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tenancy_auditentry")
    html = hq_client.get("/audit/").content.decode()
    assert "data-estimate" in html
    assert re.search(r"约\s*[\d,]+\s*条", html)
    assert len(entry_ids(html)) == PAGE_SIZE
