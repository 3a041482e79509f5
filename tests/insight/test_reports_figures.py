"""The dashboard's figures (F-47) against the hand-worked history of reports_history.py.

Range D1..D3. In it: sales #1 #2 #3 #4 #5 #6 #10 #11 #12 (9 sales, 490.00 before the 15.00
refund of #5 on D3: 475.00); members' sales #1 #3 #4 #6 #10 #11 #12 = 410.00 in 7 sales;
walk-ins #2 and #5 = 50.00 + 30.00 - 15.00 = 65.00 in 2 sales.

    member share   410.00 / 475.00 = 0.8632 by amount, 7 / 9 = 0.7778 by count
    average ticket 475.00 / 9 = 52.78; members 410.00 / 7 = 58.57; others 65.00 / 2 = 32.50
    active         A, B, F = 3; repeat: A (D1, D2) and B (D1, D2, D3); F bought twice on D2 only
                   -> 2 / 3 = 0.6667
    pareto         A 200.00, B 180.00, F 30.00 of 410.00: A + B = 380.00 >= 80 % (328.00)
                   -> 2 members, 2 / 3
    new            A (D1 09:00) and C (D3 23:59:30); B (D0 23:59:30) and E (D4 00:00:30) are out
    lifecycle      A active, B dormant, F inert (pinned); C excited by its sale (#8, scored
                   live); E never bought: not scored
    liabilities    end of D3: A 500.00 principal; points A 100 + 100 + 30 (#7 on D0), B 80 + 40,
                   F 20 + 10 = 380 points = 3.80 (C's 20 points of #8 come after)
    coupons        cash20 issued on D1, used on #4: cost 20.00, its sale 100.00 (ratio 5)
    stores         S1 #1 #2 #4 #11 #12 = 280.00 (members' 230.00, 5 sales, A and F, 2 new)
                   S2 #3 #5 #6 #10 = 210.00 - 15.00 = 195.00 (members' 180.00, 4 sales, B)
    staff          ann 280.00 (2 recruited), bob #3 #5 #6 = 150.00 - 15.00 = 135.00,
                   no staff: the import #10 60.00
    per day        D1 #1 #2 #3 = 230.00 (members' 180.00), new A, active A B
                   D2 #4 #5 #10 #11 #12 = 220.00 (members' 190.00), active A B F
                   D3 #6 - refund = 25.00 (members' 40.00), new C, active B
    diagnosis      S1 4 member visits by 2 members (2.0), 230.00 / 4 = 57.50 a visit
                   S2 3 member visits by 1 member (3.0), 180.00 / 3 = 60.00 a visit
                   medians 2.5 and 58.75: S1 both low (quality or service), S2 both high (keep)
"""

from __future__ import annotations

import datetime as dt

import pytest

from patron.insight.dashboard import dashboard, quadrants, window_for
from patron.sales import services as sales
from patron.sales.models import Refund
from tests.insight.reports_history import at, build, member, sell

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def history(system, stores):
    return build(system, stores)


@pytest.fixture
def figures(history, hq):
    return dashboard(hq, window_for(hq, history.d1, history.d3))


def test_sales_figures_to_the_fen(figures):
    assert figures["sales"] == {
        "total": 47500,
        "count": 9,
        "refunds": 1500,
        "member_total": 41000,
        "member_count": 7,
        "non_member_total": 6500,
        "non_member_count": 2,
        "member_share_amount": 0.8632,
        "member_share_count": 0.7778,
        "average_ticket": 5278,
        "average_ticket_member": 5857,
        "average_ticket_non_member": 3250,
    }


def test_member_figures(figures):
    assert figures["members"] == {
        "new": 2,
        "active": 3,
        "dormant": 1,
        "total": 5,
        "lifecycle": {"excited": 1, "active": 1, "inert": 1, "dormant": 1, "unscored": 1},
        "repeat_buyers": 2,
        "repeat_rate": 0.6667,
        "pareto_members": 2,
        "pareto_share": 0.6667,
    }


def test_liabilities_at_the_end_of_the_range(figures):
    owed = figures["liabilities"]
    assert (owed["principal"], owed["bonus"], owed["stored_value"]) == (50000, 0, 50000)
    assert (owed["points"], owed["points_value"]) == (380, 380)
    by_store = {row["store"]: (row["stored_value"], row["points"]) for row in owed["by_store"]}
    assert by_store == {"S1": (50000, 260), "S2": (0, 120)}


def test_coupon_cost_and_return(figures):
    coupons = figures["coupons"]
    assert (coupons["issued"], coupons["used"], coupons["sales_count"]) == (1, 1, 1)
    assert (coupons["cost"], coupons["sales"], coupons["return_ratio"]) == (2000, 10000, 5.0)
    assert coupons["by_template"] == [
        {
            "code": "cash20",
            "name": "满100减20",
            "issued": 1,
            "used": 1,
            "cost": 2000,
            "sales": 10000,
            "return_ratio": 5.0,
        }
    ]


def test_store_and_staff_rankings(figures):
    stores = [
        (
            r["rank"],
            r["store"],
            r["sales"],
            r["member_sales"],
            r["count"],
            r["active_members"],
            r["new_members"],
        )
        for r in figures["stores"]
    ]
    assert stores == [(1, "S1", 28000, 23000, 5, 2, 2), (2, "S2", 19500, 18000, 4, 1, 0)]
    staff = [
        (r["rank"], r["username"], r["sales"], r["member_sales"], r["count"], r["new_members"])
        for r in figures["staff"]
    ]
    assert staff == [
        (1, "ann", 28000, 23000, 5, 2),
        (2, "bob", 13500, 12000, 3, 0),
        (3, None, 6000, 6000, 1, 0),
    ]


def test_series_per_local_day(figures, history):
    series = figures["series"]
    assert series["granularity"] == "day"
    assert series["periods"][0] == history.d1 and series["periods"][-1] == history.d3
    assert series["sales"] == [23000, 22000, 2500]
    assert series["member_sales"] == [18000, 19000, 4000]
    assert series["new_members"] == [1, 0, 1]
    assert series["active_members"] == [2, 3, 1]


def test_diagnosis_of_the_two_stores(figures):
    diagnosis = figures["diagnosis"]
    assert (diagnosis["median_activity"], diagnosis["median_loyalty"]) == (2.5, 5875)
    rows = [
        (r["store"], r["visits"], r["members"], r["activity"], r["loyalty"], r["quadrant"])
        for r in diagnosis["stores"]
    ]
    assert rows == [
        ("S1", 4, 2, 2.0, 5750, "quality_or_service"),
        ("S2", 3, 1, 3.0, 6000, "keep"),
    ]


def test_one_day_ranges_cut_at_local_midnight(history, hq):
    """D1 alone: #1 #2 (00:00:10 local, 16:00:10 UTC the day before) #3; D3 alone: #6 at
    23:59:50 local and the refund."""
    first = dashboard(hq, window_for(hq, history.d1, history.d1))
    assert (first["sales"]["total"], first["sales"]["count"]) == (23000, 3)
    assert first["members"]["new"] == 1
    last = dashboard(hq, window_for(hq, history.d3, history.d3))
    assert (last["sales"]["total"], last["sales"]["count"]) == (2500, 1)
    assert last["members"]["new"] == 1  # C at 23:59:30


def test_one_store_asked_by_hq(history, hq):
    figures = dashboard(hq, window_for(hq, history.d1, history.d3, "S2"))
    assert (figures["sales"]["total"], figures["sales"]["member_total"]) == (19500, 18000)
    assert figures["members"]["new"] == 0
    assert figures["members"]["lifecycle"]["dormant"] == 1  # B's home store is S2
    assert [row["store"] for row in figures["stores"]] == ["S2"]
    assert [row["username"] for row in figures["staff"]] == ["bob", None]
    assert figures["liabilities"]["points"] == 120
    assert [row["store"] for row in figures["diagnosis"]["stores"]] == ["S2"]
    assert figures["diagnosis"]["median_activity"] == 2.5  # still the chain's


def per_local_day(history) -> dict:
    """Net sales per local day around the range: D0 #7, D1..D3 as the series, D4 #8."""
    day = history.d1
    return {
        day - dt.timedelta(days=1): 3000,
        day: 23000,
        day + dt.timedelta(days=1): 22000,
        day + dt.timedelta(days=2): 2500,
        day + dt.timedelta(days=3): 2000,
    }


def test_long_ranges_are_weekly_then_monthly(history, hq):
    """Weeks start on Monday and months on the 1st, in the merchant's zone (SQLite cuts them
    with its own date functions, PostgreSQL with date_trunc: both must agree)."""
    first, last = history.d1 - dt.timedelta(days=60), history.d1 + dt.timedelta(days=60)
    weeks = dashboard(hq, window_for(hq, first, last))["series"]
    assert weeks["granularity"] == "week"
    assert all(day.weekday() == 0 for day in weeks["periods"])
    expected: dict = {}
    for day, amount in per_local_day(history).items():
        monday = day - dt.timedelta(days=day.weekday())
        expected[monday] = expected.get(monday, 0) + amount
    found = {
        day: sales for day, sales in zip(weeks["periods"], weeks["sales"], strict=True) if sales
    }
    assert found == expected

    months = dashboard(hq, window_for(hq, history.d1 - dt.timedelta(days=700), last))["series"]
    assert months["granularity"] == "month"
    expected = {}
    for day, amount in per_local_day(history).items():
        expected[day.replace(day=1)] = expected.get(day.replace(day=1), 0) + amount
    found = {
        day: sales for day, sales in zip(months["periods"], months["sales"], strict=True) if sales
    }
    assert found == expected
    assert sum(months["new_members"]) == 5  # every member joined inside these months


def test_empty_merchant_has_no_figures_and_no_errors(hq):
    figures = dashboard(hq, window_for(hq))
    assert figures["sales"]["total"] == 0
    assert figures["sales"]["member_share_amount"] is None
    assert figures["sales"]["average_ticket_member"] is None
    assert figures["members"]["repeat_rate"] is None
    assert figures["members"]["pareto_share"] is None
    assert figures["coupons"]["return_ratio"] is None
    assert figures["diagnosis"]["stores"] == []
    assert len(figures["series"]["periods"]) == 30


def test_quadrants_of_four_hand_made_stores():
    """Activity (visits per member) and spend per visit (fen) of four stores: medians 2.5 and
    5000. The store at the median counts as high."""
    placed = quadrants(
        {
            "busy-cheap": (4.0, 3000),
            "busy-rich": (3.0, 8000),
            "rare-rich": (2.0, 6000),
            "rare-cheap": (1.0, 4000),
        }
    )
    assert placed == (
        2.5,
        5000,
        {
            "busy-cheap": "product_or_price",
            "busy-rich": "keep",
            "rare-rich": "win_back",
            "rare-cheap": "quality_or_service",
        },
    )
    alone = quadrants({"only": (2.0, 5000)})
    assert alone == (2.0, 5000, {"only": "keep"})


def test_a_refund_alone_makes_nobody_active(history, hq, system, stores):
    """G bought on D0 (before the range) and got the money back on D2: the refund lowers
    the range's sales but G did not buy in the range."""
    g = member(system, "13800138007", "S2", at(history.d1, 9))
    day0 = history.d1 - dt.timedelta(days=1)
    sale = sell(system, "S2", at(day0, 12), 5000, buyer=g, key="g1")
    refund = sales.refund_sale(system, sale, sales.RefundAsk(lines=(("DISH", 1),)), key="rg")
    Refund.objects.filter(pk=refund.pk).update(created_at=at(history.d1, 15))
    figures = dashboard(hq, window_for(hq, history.d1, history.d3))
    assert figures["sales"]["total"] == 47500 - 5000
    assert figures["sales"]["member_total"] == 41000 - 5000
    assert (figures["members"]["active"], figures["members"]["repeat_buyers"]) == (3, 2)
    assert figures["members"]["pareto_members"] == 2
