"""`patron import sales` (API.md §8): history in, re-run safe, all or nothing, earns nothing."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from patron.insight.history import KEY_PREFIX
from patron.insight.models import ExternalMember, MemberFacet
from patron.ledger.models import Entry, Transaction
from patron.ledger.selectors import reconcile
from patron.members.models import Member
from patron.members.services import register_member
from patron.sales.models import MemberStats, Sale, SaleLine
from tests.insight.history_support import run_import, write_csv, write_xlsx

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SHANGHAI = ZoneInfo("Asia/Shanghai")
MOBILE = "13800138000"
ROWS = [
    [MOBILE, "2025-11-01", "S1", "LATTE", "drinks", 2, 5600],
    [MOBILE, "2025-11-13 09:30", "S2", "LATTE", "drinks", 1, 2800],
    [MOBILE, "2025-11-13 09:30", "S2", "LATTE", "drinks", 1, 2800],  # the same again: 2 sales
]


@pytest.fixture
def member(system, stores):
    return register_member(system, {"mobile": MOBILE, "store": "S1"})


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def test_a_csv_becomes_sales_stats_and_facets(tmp_path, member):
    code, out = run_import(write_csv(tmp_path / "history.csv", ROWS))
    assert code == 0, out
    assert "Imported:          3" in out
    sales = Sale.objects.filter(member=member).order_by("occurred_at", "pk")
    assert [s.total for s in sales] == [5600, 2800, 2800]
    assert {s.channel for s in sales} == {"import"}
    assert all(s.idempotency_key.startswith(KEY_PREFIX) for s in sales)
    first = sales[0]
    assert (first.subtotal, first.discount, first.points_earned, first.stored_value_paid) == (
        5600,
        0,
        0,
        0,
    )
    assert first.occurred_at == at(2025, 11, 1)  # a date: midnight in the merchant's zone
    assert first.store.code == "S1" and sales[1].store.code == "S2"
    assert not first.tenders.exists()
    line = SaleLine.objects.get(sale=first)
    assert (line.sku, line.category, line.quantity, line.unit_price, line.total) == (
        "LATTE",
        "drinks",
        2,
        2800,
        5600,
    )
    stats = MemberStats.objects.get(member=member)
    assert (stats.visits, stats.total_spend, stats.average_ticket) == (3, 11200, 3733)
    assert stats.first_visit_at == at(2025, 11, 1)
    assert stats.last_visit_at == at(2025, 11, 13, 9, 30)
    drinks = MemberFacet.objects.get(member=member, kind="category", value="drinks")
    # 3 sales on 2 days, 12 days apart: a cycle of 12 days, due 12 days after the last
    assert (drinks.visits, drinks.days, drinks.quantity, drinks.spend) == (3, 2, 4, 11200)
    assert drinks.cycle_days == 12
    assert drinks.due_at == at(2025, 11, 25, 9, 30)
    assert MemberFacet.objects.get(member=member, kind="sku").value == "LATTE"


def test_running_the_same_file_again_imports_nothing(tmp_path, member):
    path = write_csv(tmp_path / "history.csv", ROWS)
    assert run_import(path)[0] == 0
    code, out = run_import(path)
    assert code == 0, out
    assert "Imported:          0" in out and "Already imported:  3" in out
    assert Sale.objects.filter(member=member).count() == 3
    assert MemberStats.objects.get(member=member).visits == 3


def test_one_more_identical_row_in_the_file_is_one_more_sale(tmp_path, member):
    assert run_import(write_csv(tmp_path / "a.csv", ROWS))[0] == 0
    code, out = run_import(write_csv(tmp_path / "b.csv", [*ROWS, ROWS[2]]))
    assert code == 0, out
    assert "Imported:          1" in out
    assert Sale.objects.filter(member=member).count() == 4


def test_an_xlsx_with_real_dates_and_numbers(tmp_path, member):
    rows = [
        [int(MOBILE), dt.datetime(2025, 10, 1, 12, 0), "S1", "TEE", "clothes", 1, 9900.0],
        [int(MOBILE), dt.date(2025, 10, 31), None, "TEE", "clothes", None, 9900],
    ]
    code, out = run_import(write_xlsx(tmp_path / "history.xlsx", rows))
    assert code == 0, out
    sales = list(Sale.objects.filter(member=member).order_by("occurred_at"))
    assert [s.occurred_at for s in sales] == [at(2025, 10, 1, 12), at(2025, 10, 31)]
    assert sales[1].store.code == "S1"  # no store: the merchant's first
    facet = MemberFacet.objects.get(member=member, kind="category", value="clothes")
    assert (facet.visits, facet.days, facet.quantity) == (2, 2, 2)
    assert facet.cycle_days == 30  # Oct 1 to Oct 31, local days


def test_store_option_and_offsets(tmp_path, member):
    rows = [[MOBILE, "2025-11-01T23:30:00+00:00", "", "X", "drinks", 1, 0]]
    code, out = run_import(write_csv(tmp_path / "h.csv", rows), "--store", "S2")
    assert code == 0, out
    sale = Sale.objects.get(member=member)
    assert sale.store.code == "S2" and sale.total == 0  # 0 allowed
    assert sale.occurred_at == dt.datetime(2025, 11, 1, 23, 30, tzinfo=dt.UTC)


def test_an_unknown_external_id_creates_the_member_once(tmp_path, system, stores):
    header = ["external_id", "occurred_at", "amount", "category"]
    rows = [["C-001", "2025-01-05", 1000, "food"], ["C-001", "2025-01-02", 500, "food"]]
    code, out = run_import(write_csv(tmp_path / "ext.csv", rows, header))
    assert code == 0, out
    assert "New members:       1" in out
    link = ExternalMember.objects.get(external_id="C-001")
    member = link.member
    assert member.source_channel == "import"
    assert member.joined_at == at(2025, 1, 2)  # the first sale of their history
    assert member.mobile.startswith("E") and member.mobile.endswith(member.card_no[-10:])
    assert Sale.objects.filter(member=member).count() == 2
    # a second file with the same id finds the same member
    rows = [["C-001", "2025-02-05", 700, "food"]]
    code, out = run_import(write_csv(tmp_path / "ext2.csv", rows, header))
    assert code == 0 and "New members:       0" in out
    assert Member.objects.count() == 1
    assert MemberStats.objects.get(member=member).visits == 3


def test_an_external_id_with_a_members_mobile_is_that_member(tmp_path, member):
    header = ["external_id", "mobile", "occurred_at", "amount"]
    code, out = run_import(
        write_csv(tmp_path / "x.csv", [["OLD-9", MOBILE, "2025-03-01", 100]], header)
    )
    assert code == 0, out
    assert ExternalMember.objects.get(external_id="OLD-9").member_id == member.pk
    assert Member.objects.count() == 1


# Row errors come in the default language, Chinese (the CLI's messages are the console's).
BAD = [
    ([MOBILE, "2099-01-01", "S1", "X", "drinks", 1, 100], "occurred_at", "未来"),
    ([MOBILE, "2025-01-01", "S1", "X", "drinks", 1, -5], "amount", "负数"),
    ([MOBILE, "2025-01-01", "S9", "X", "drinks", 1, 100], "store", "S9"),
    ([MOBILE, "01/13/2025", "S1", "X", "drinks", 1, 100], "occurred_at", "不是日期"),
    ([MOBILE, "2025-13-45", "S1", "X", "drinks", 1, 100], "occurred_at", "不是日期"),
    ([MOBILE, "2025-01-01", "S1", "X", "drinks", 0, 100], "quantity", "超出"),
    ([MOBILE, "2025-01-01", "S1", "X", "drinks", 1, "12.5"], "amount", "不是整数"),
    (["13900139000", "2025-01-01", "S1", "X", "drinks", 1, 100], "mobile", "没有手机号"),
    (["", "2025-01-01", "S1", "X", "drinks", 1, 100], "member", "没有指明会员"),
]


@pytest.mark.parametrize(("bad", "column", "words"), BAD)
def test_a_bad_row_is_named_and_nothing_is_written(tmp_path, member, bad, column, words):
    before = (Sale.objects.count(), MemberStats.objects.count(), MemberFacet.objects.count())
    code, out = run_import(write_csv(tmp_path / "bad.csv", [ROWS[0], bad, ROWS[1]]))
    assert code == 1
    assert f"row 3, {column}:" in out and words in out, out
    assert "nothing was imported" in out
    after = (Sale.objects.count(), MemberStats.objects.count(), MemberFacet.objects.count())
    assert after == before


@pytest.mark.parametrize(
    ("header", "words"),
    [
        (["member_id", "occurred_at", "amount"], "未知的列"),
        (["occurred_at", "amount", "sku"], "没有标识会员的列"),
        (["mobile", "amount"], "缺少列"),
    ],
)
def test_a_bad_header_is_refused(tmp_path, member, header, words):
    code, out = run_import(write_csv(tmp_path / "h.csv", [[MOBILE, "2025-01-01", 1]], header))
    assert code == 1 and words in out
    assert not Sale.objects.exists()


def test_dry_run_writes_nothing(tmp_path, member):
    code, out = run_import(write_csv(tmp_path / "h.csv", ROWS), "--dry-run")
    assert code == 0 and "Would import:      3" in out
    assert not Sale.objects.exists()


def test_history_earns_nothing_and_moves_no_balance(tmp_path, member):
    before = (Transaction.objects.count(), Entry.objects.count())
    assert run_import(write_csv(tmp_path / "h.csv", ROWS))[0] == 0
    assert (Transaction.objects.count(), Entry.objects.count()) == before
    assert reconcile() == []
    assert MemberStats.objects.get(member=member).points_earned == 0
