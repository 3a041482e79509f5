"""Keyset pages walk a list forwards and back with every row once, in order, ties broken by
the primary key; rows inserted meanwhile do not shift the pages; bad cursors are 422s."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone, translation

from patron.core.counting import RowCount, row_count
from patron.core.errors import ValidationFailed
from patron.core.keyset import keyset_page, make_cursor
from patron.core.templatetags.counts import count_label
from patron.members.models import Member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
ORDERING = ("-joined_at", "-id")


def add_members(merchant, count: int, *, start: int = 0) -> None:
    base = timezone.now() - dt.timedelta(days=30)
    Member.objects.bulk_create(
        Member(
            merchant=merchant,
            card_no=f"9{n:07d}",
            mobile=f"139{n:08d}",
            referral_code=f"R{n:07d}",
            # groups of three share a join time: the id must break the tie
            joined_at=base + dt.timedelta(minutes=n // 3),
        )
        for n in range(start, start + count)
    )


def walk(rows, size: int) -> list[int]:
    seen, cursor = [], None
    while True:
        page = keyset_page(rows, ORDERING, size, cursor)
        seen += [m.pk for m in page.items]
        if not page.has_next:
            return seen
        cursor = page.next_cursor


def test_pages_cover_every_row_once_in_order(merchant):
    add_members(merchant, 47)
    rows = Member.objects.filter(merchant=merchant)
    expected = list(rows.order_by(*ORDERING).values_list("pk", flat=True))
    assert walk(rows, 10) == expected
    assert walk(rows, 47) == expected
    assert walk(rows, 100) == expected


def test_going_back_returns_the_same_page(merchant):
    add_members(merchant, 30)
    rows = Member.objects.filter(merchant=merchant)
    first = keyset_page(rows, ORDERING, 7)
    second = keyset_page(rows, ORDERING, 7, first.next_cursor)
    third = keyset_page(rows, ORDERING, 7, second.next_cursor)
    back = keyset_page(rows, ORDERING, 7, third.previous_cursor)
    assert [m.pk for m in back.items] == [m.pk for m in second.items]
    assert back.has_previous and back.has_next
    start = keyset_page(rows, ORDERING, 7, back.previous_cursor)
    assert [m.pk for m in start.items] == [m.pk for m in first.items]
    assert not start.has_previous
    assert not first.has_previous


def test_rows_inserted_meanwhile_do_not_shift_later_pages(merchant):
    add_members(merchant, 20)
    rows = Member.objects.filter(merchant=merchant)
    first = keyset_page(rows, ORDERING, 5)
    expected = list(rows.order_by(*ORDERING).values_list("pk", flat=True))[5:10]
    add_members(merchant, 10, start=100)  # newer: they sort before the first page
    second = keyset_page(rows, ORDERING, 5, first.next_cursor)
    assert [m.pk for m in second.items] == expected


def test_values_rows_page_too(merchant):
    add_members(merchant, 12)
    rows = Member.objects.filter(merchant=merchant).values("pk", "id", "joined_at")
    page = keyset_page(rows, ORDERING, 5)
    again = keyset_page(rows, ORDERING, 5, page.next_cursor)
    assert {r["id"] for r in page.items}.isdisjoint({r["id"] for r in again.items})


@pytest.mark.parametrize("cursor", ["nonsense", "e30", make_cursor("a", [1])])
def test_a_foreign_cursor_is_a_validation_error(merchant, cursor):
    with pytest.raises(ValidationFailed):
        keyset_page(Member.objects.filter(merchant=merchant), ORDERING, 5, cursor)


def test_counts_are_exact_when_small_and_estimated_past_the_limit(merchant):
    add_members(merchant, 15)
    rows = Member.objects.filter(merchant=merchant)
    assert row_count(rows) == RowCount(15, True)
    capped = row_count(rows, exact_up_to=10)
    if connection.vendor == "sqlite":  # no planner estimate: SQLite counts exactly
        assert capped == RowCount(15, True)
    else:
        assert capped.value > 10 and not capped.exact
    assert count_label(RowCount(15, True)) == "15"
    with translation.override("en"):
        assert count_label(RowCount(987_654, False)) == "about 990,000"
    with translation.override("zh-hans"):
        assert count_label(RowCount(987_654, False)) == "约 99万"
        assert count_label(RowCount(1_234, False)) == "约 1200"
