"""Member search: each kind of match, ranking (exact first), keyset pages stable under inserts,
and on PostgreSQL that every kind can be answered from its index (migration 0008)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from patron.cards.services import IssueRequest, issue_card
from patron.members import search, selectors
from patron.members.models import Member
from patron.members.services import register_member
from patron.program.services import apply_program
from tests.scale_support import build_members

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

PEOPLE = [
    # name, mobile
    ("王", "13900000001"),
    ("王芳", "13800001234"),
    ("王小芳", "13712345678"),
    ("李王", "15000005678"),
    ("张三", "15812341234"),
    ("张三丰", "18600009999"),
    ("周敏", "13600004321"),
    ("Tom Wang", "13500000000"),
]


@pytest.fixture
def people(system, stores) -> dict[str, Member]:
    found = {}
    for index, (name, mobile) in enumerate(PEOPLE):
        member = register_member(system, {"name": name, "mobile": mobile, "store": "S1"})
        # Joined one day apart, the first the oldest: the order within a rank is the newest.
        Member.objects.filter(pk=member.pk).update(
            joined_at=timezone.now() - dt.timedelta(days=len(PEOPLE) - index)
        )
        found[name] = Member.objects.get(pk=member.pk)
    return found


def names(system, q: str) -> list[str]:
    return [m.name for m in selectors.search_members(system, q)]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("王", ["王", "王小芳", "王芳", "李王"]),  # exact, then the prefixes newest first
        ("王芳", ["王芳"]),
        ("芳", ["王小芳", "王芳"]),
        ("wang", ["王小芳", "王芳", "王", "Tom Wang", "李王"]),  # pinyin that starts so first
        ("zs", ["张三丰", "张三"]),  # initials, at the start of a pinyin word
        ("zsf", ["张三丰"]),
        ("sf", []),  # two letters match the start of a word only, not its middle
        ("1380000", ["王芳"]),  # a mobile's first digits
        ("1234", ["张三", "王芳"]),  # its last four digits
        ("5678", ["李王", "王小芳"]),
        ("13800001234", ["王芳"]),
        ("tom", ["Tom Wang"]),
        ("zs 1234", ["张三"]),
    ],
)
def test_each_kind_of_search_finds_its_members_in_ranked_order(system, people, q, expected):
    assert names(system, q) == expected


def test_an_exact_mobile_ranks_before_mobiles_that_start_or_end_with_it(system, stores):
    for mobile in ("13800138000", "13800138001", "13900001380"):
        register_member(system, {"mobile": mobile})
    by_mobile = [m.mobile for m in selectors.search_members(system, "1380")]
    assert by_mobile[-1] == "13900001380"  # ends with it: after those that start with it
    exact = [m.mobile for m in selectors.search_members(system, "13800138000")]
    assert exact == ["13800138000"]


def test_card_numbers_match_whole_or_by_their_first_digits(system, people):
    card = people["张三"].card_no

    assert names(system, card) == ["张三"]
    assert "张三" in names(system, card[:7])


def test_a_physical_card_id_finds_its_holder_first(system, people):
    apply_program(
        system,
        {
            "tiers": [{"code": "n", "name": "普通", "rank": 0}],
            "card_products": [{"code": "std", "name": "会员卡", "fee": 0}],
        },
    )
    issue_card(system, people["周敏"], IssueRequest(product="std", physical_id="MAG-4321"), key="k")

    assert names(system, "MAG-4321") == ["周敏"]
    assert names(system, "NOT-A-CARD") == []


def test_a_store_bound_search_sees_its_own_store_only(system, people, cashier):
    register_member(system, {"name": "王二", "mobile": "13700000002", "store": "S2"})

    assert "王二" in names(system, "王")
    assert "王二" not in names(cashier, "王")


def ids_by_pages(system, q: str, size: int, insert=None) -> list[int]:
    ordering = selectors.member_ordering(q)
    seen, cursor = [], None
    while True:
        page = selectors.member_page(selectors.search_members(system, q), ordering, size, cursor)
        seen += [m.pk for m in page.items]
        if insert is not None:
            insert()
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


def test_search_pages_by_keyset_never_repeat_or_skip_while_members_join(system, stores):
    for n in range(12):
        register_member(system, {"name": f"王{n}", "mobile": f"1390000{n:04d}"})
    before = [m.pk for m in selectors.search_members(system, "王")]
    added = iter(range(100, 200))

    def someone_joins():
        n = next(added)
        register_member(system, {"name": f"王{n}", "mobile": f"1390000{n:04d}"})

    paged = ids_by_pages(system, "王", 5, insert=someone_joins)

    assert paged[: len(before)] == before  # the newcomers are newer: before the first page
    assert len(paged) == len(set(paged)) == len(before)


# --- PostgreSQL: each kind can be answered from its index --------------------------------------

INDEXED = [
    ("王", "member_name_chars"),
    ("王芳", "member_name_chars"),
    ("wang", "member_pinyin_trgm"),
    ("zs", "member_pinyin_trgm"),
    ("1380012", "member_mobile_prefix"),
    ("1380012", "member_card_prefix"),
    ("1234", "member_mobile_suffix"),
]


@pytest.fixture
def thousands(system, stores) -> None:
    build_members(system.merchant, 3000, stores=list(stores.values()))


@pytest.mark.parametrize(("q", "index"), INDEXED)
def test_postgresql_answers_each_search_from_its_index(system, thousands, q, index):
    if connection.vendor != "postgresql":
        pytest.skip("the indexes of migration 0008 exist on PostgreSQL only")
    # The search's condition alone, and no plain scans: a bitmap over the search's indexes is
    # then its only way, unless the SQL Django writes no longer matches an index's expression.
    found = Member.objects.filter(search.query_condition(q)).values("id")
    sql, params = found.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan


def tiered_ids(system, q: str, size: int) -> tuple[list[int], list[int]]:
    """Every page forwards by the rank tiers, then back from the last page."""
    unsearched = selectors.search_members(system, "")
    tiers = selectors.ranked_tiers(system, unsearched, q)
    found = selectors.search_members(system, q)
    forwards, pages, cursor = [], [], None
    while True:
        page = selectors.member_page(found, (), size, cursor, tiers=tiers)
        pages.append([m.pk for m in page.items])
        forwards += pages[-1]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    backwards, cursor = list(pages[-1]), page.previous_cursor
    while cursor is not None:
        page = selectors.member_page(found, (), size, cursor, tiers=tiers)
        backwards = [m.pk for m in page.items] + backwards
        cursor = page.previous_cursor
    return forwards, backwards


@pytest.mark.parametrize("q", ["王", "wang", "zs", "芳", "1380", "5678"])
@pytest.mark.parametrize("size", [1, 2, 50])
def test_read_rank_by_rank_the_pages_are_the_ranked_order(system, people, q, size):
    ranked = [m.pk for m in selectors.search_members(system, q)]
    forwards, backwards = tiered_ids(system, q, size)
    assert forwards == ranked
    assert backwards == ranked
