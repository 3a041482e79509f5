"""The console home's figures against hand-worked numbers (issue 14, item 6).

A small scripted merchant in Asia/Shanghai with two stores. "Today" is a Monday in the past
(the checkout refuses future sales, and a fixed Monday puts the week boundary between
yesterday and today): the figures are read as of 15:00 that Monday.

    Sunday (last week, this month)         Monday = today (this week, this month)
    S2  new member B at 23:59:30 local     S1  new member C at 00:00:30 local, new member A 09:00
    S2  B tops up 200.00                   S1  walk-in sale 50.00 at 00:00:30
    S2  walk-in sale 2 × 10.00 (12:00)     S1  A buys 100.00 at 10:00 (earns 100 points)
    S2  B buys 80.00 at 23:59:30           S2  one of Sunday's 2 × 10.00 refunded at 11:00
        (earns 80 points)                  S1  A tops up 500.00 at 12:00
                                           S1  A buys 20.00 at 13:00 paying 100 points
                                               (1.00 off: pays 19.00, earns 19 points)
    Last month's last day: S1 new member E, E buys 30.00 (the chart only).

Today and this week (S1): sales 100 + 50 + 19 = 169.00, members' 119.00 (70.4%), 2 new,
top-ups 500.00, 119 points issued, 100 redeemed; (S2): -10.00 (the refund), nothing else.
This month adds Sunday at S2: 80 + 20 - 10 = 90.00, members' 80.00, 1 new, 200.00 topped up,
80 points issued.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo

import pytest
from django.core.cache import cache

from patron.cards.enrolment import attach_sales
from patron.core.settled import settled_then_live
from patron.home.figures import home_figures
from patron.ledger import services as ledger
from patron.ledger.models import Entry
from patron.members.models import Member
from patron.members.selectors import members_in_all
from patron.members.services import register_member
from patron.program.services import apply_program
from patron.sales import services as sales
from patron.sales.models import Refund, Sale
from patron.tenancy.models import Role
from tests.conftest import staff_actor
from tests.console.conftest import logged_in

# Local days are cut by the database (TruncDate in the merchant zone): both backends.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
PROGRAM = {
    "categories": ["dishes"],
    "points": {
        "earn": {"per_amount": 100, "points": 1},
        "redeem_cash": {"points": 100, "value": 100, "max_share_percent": 50},
        "expiry": {"policy": "never"},
        "pending_days": 0,
    },
    "checkout": {"backdate_days": 365},
}


def a_past_monday() -> dt.date:
    """A Monday at least two days ago that is the month's 8th to 14th: its Sunday is in the same
    month, and the month's first days hold nothing else."""
    day = dt.datetime.now(SHANGHAI).date() - dt.timedelta(days=2)
    while not (day.weekday() == 0 and 8 <= day.day <= 14):
        day -= dt.timedelta(days=1)
    return day


def at(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute, second), tzinfo=SHANGHAI)


def joined(member: Member, when: dt.datetime) -> Member:
    Member.objects.filter(pk=member.pk).update(joined_at=when)
    member.refresh_from_db()
    return member


def sell(actor, store, when, price, *, member=None, quantity=1, points=0, key):
    lines = [
        sales.LineInput(
            sku="DISH", name="菜", category="dishes", quantity=quantity, unit_price=price
        )
    ]
    request = sales.SaleRequest(
        lines=lines,
        member=member.pk if member else None,
        store=store,
        occurred_at=when,
        points_to_redeem=points,
    )
    return sales.commit_sale(actor, request, key=key)


@pytest.fixture
def monday() -> dt.date:
    return a_past_monday()


@pytest.fixture
def scripted(system, stores, monday):
    """The merchant of the module docstring; returns the moment the figures are read."""
    apply_program(system, PROGRAM)
    sunday, last_month = monday - dt.timedelta(days=1), monday.replace(day=1) - dt.timedelta(days=1)
    a = joined(register_member(system, {"mobile": "13800138001", "store": "S1"}), at(monday, 9))
    b = joined(
        register_member(system, {"mobile": "13800138002", "store": "S2"}), at(sunday, 23, 59, 30)
    )
    joined(register_member(system, {"mobile": "13800138003", "store": "S1"}), at(monday, 0, 0, 30))
    e = joined(register_member(system, {"mobile": "13800138005", "store": "S1"}), at(last_month, 9))

    ledger.top_up(
        system,
        b,
        20000,
        key="t-b",
        context=ledger.Context(store=stores["S2"], occurred_at=at(sunday, 10)),
    )
    walk_in = sell(system, "S2", at(sunday, 12), 1000, quantity=2, key="s4")
    sell(system, "S2", at(sunday, 23, 59, 30), 8000, member=b, key="s3")
    sell(system, "S1", at(monday, 0, 0, 30), 5000, key="s2")
    sell(system, "S1", at(monday, 10), 10000, member=a, key="s1")
    refund = sales.refund_sale(system, walk_in, sales.RefundAsk(lines=(("DISH", 1),)), key="r1")
    Refund.objects.filter(pk=refund.pk).update(created_at=at(monday, 11))
    ledger.top_up(
        system,
        a,
        50000,
        key="t-a",
        context=ledger.Context(store=stores["S1"], occurred_at=at(monday, 12)),
    )
    sell(system, "S1", at(monday, 13), 2000, member=a, points=100, key="s6")
    sell(system, "S1", at(last_month, 12), 3000, member=e, key="s5")
    return at(monday, 15)


def figures_of(figures) -> dict:
    return {
        name: getattr(figures, name)
        for name in (
            "sales",
            "member_sales",
            "new_members",
            "topups",
            "points_issued",
            "points_redeemed",
        )
    }


S1_TODAY = {
    "sales": 16900,
    "member_sales": 11900,
    "new_members": 2,
    "topups": 50000,
    "points_issued": 119,
    "points_redeemed": 100,
}
S2_TODAY = dict.fromkeys(S1_TODAY, 0) | {"sales": -1000}
S2_MONTH = {
    "sales": 9000,
    "member_sales": 8000,
    "new_members": 1,
    "topups": 20000,
    "points_issued": 80,
    "points_redeemed": 0,
}


def by_store(period) -> dict:
    return {row.store.code: figures_of(row.figures) for row in period.stores}


def test_hq_sees_today_this_week_and_this_month_per_store_and_for_the_chain(hq, scripted):
    figures = home_figures(hq, now=scripted)

    today, week, month = (figures.periods[key] for key in ("today", "week", "month"))
    assert by_store(today) == {"S1": S1_TODAY, "S2": S2_TODAY}
    assert figures_of(today.total) == {
        "sales": 15900,
        "member_sales": 11900,
        "new_members": 2,
        "topups": 50000,
        "points_issued": 119,
        "points_redeemed": 100,
    }
    assert by_store(week) == by_store(today)  # Monday: the week began today
    assert by_store(month) == {"S1": S1_TODAY, "S2": S2_MONTH}
    assert figures_of(month.total) == {
        "sales": 25900,
        "member_sales": 19900,
        "new_members": 3,
        "topups": 70000,
        "points_issued": 199,
        "points_redeemed": 100,
    }
    assert round(today.stores[0].figures.member_share, 3) == 0.704  # 119.00 / 169.00
    assert today.stores[1].figures.member_share is None  # no sales to share, only a refund
    assert round(month.total.member_share, 3) == 0.768  # 199.00 / 259.00


def test_a_sunday_night_is_last_week_and_a_monday_past_midnight_is_this_week(hq, scripted):
    """The same moments read on Sunday: member B and sale s3 at 23:59:30 count on Sunday."""
    sunday = scripted - dt.timedelta(days=1)
    figures = home_figures(hq, now=sunday)
    assert by_store(figures.periods["today"])["S2"] == {
        "sales": 10000,
        "member_sales": 8000,
        "new_members": 1,
        "topups": 20000,
        "points_issued": 80,
        "points_redeemed": 0,
    }
    # Monday's first seconds are not Sunday's
    assert by_store(figures.periods["today"])["S1"] == dict.fromkeys(S1_TODAY, 0)


def test_the_chart_has_90_days_of_sales_and_member_sales_per_store(hq, scripted, monday):
    chart = home_figures(hq, now=scripted).chart

    assert len(chart["labels"]) == 90
    assert [s["key"] for s in chart["series"]] == ["sales", "member_sales"]
    views = {view["key"]: view["values"] for view in chart["views"]}
    assert list(views) == ["", "S1", "S2"]  # all stores first
    last_month = (monday.replace(day=1) - dt.timedelta(days=1) - monday).days  # days back
    assert views[""]["sales"][-1] == 159.0 and views[""]["member_sales"][-1] == 119.0
    assert views[""]["sales"][-2] == 100.0 and views[""]["member_sales"][-2] == 80.0
    assert views["S1"]["sales"][-1 + last_month] == 30.0
    assert views["S2"]["sales"][-1] == -10.0
    assert sum(views["S1"]["sales"]) == 169.0 + 30.0


def test_a_store_manager_sees_their_own_store_only(system, stores, scripted):
    manager = staff_actor(system, "s1.manager", Role.STORE_MANAGER, stores["S1"])
    figures = home_figures(manager, now=scripted)

    assert by_store(figures.periods["month"]) == {"S1": S1_TODAY}
    assert figures_of(figures.periods["month"].total) == S1_TODAY
    assert [view["key"] for view in figures.chart["views"]] == ["S1"]


# --- the page --------------------------------------------------------------------------------


def card(page: str, name: str) -> str:
    match = re.search(rf'data-figure="{name}"[^>]*>([^<]*)<', page)
    assert match, name
    return match.group(1).strip()


def chart_spec(page: str) -> dict:
    match = re.search(r'<script id="sales-chart-spec" type="application/json">(.*?)</script>', page)
    assert match
    return json.loads(match.group(1))


@pytest.fixture
def sold_today(system, stores):
    """Two sales a minute ago: 88.00 to a member at S1, 12.00 to a walk-in at S2."""
    apply_program(system, PROGRAM)
    member = register_member(system, {"mobile": "13800138009", "store": "S1"})
    now = dt.datetime.now(SHANGHAI) - dt.timedelta(minutes=1)
    sell(system, "S1", now, 8800, member=member, key="today-1")
    sell(system, "S2", now, 1200, key="today-2")


def test_the_home_page_shows_the_period_chosen_and_the_chart_spec(hq, sold_today):
    page = logged_in(hq).get("/").content.decode()

    assert card(page, "sales") == "¥100.00"
    assert card(page, "member_share") == "88.0%"
    assert card(page, "new_members") == "1"
    assert 'data-store="S1"' in page and 'data-store="S2"' in page
    assert 'src="/static/core/vendor/echarts.min.js"' in page
    assert "<script>" not in page  # the CSP allows no inline script: the spec is JSON only
    spec = chart_spec(page)
    assert [view["key"] for view in spec["views"]] == ["", "S1", "S2"]
    assert spec["views"][0]["values"]["sales"][-1] == 100.0

    month = logged_in(hq).get("/?period=month").content.decode()
    assert 'data-period-shown="month"' in month
    assert 'data-period-shown="today"' in logged_in(hq).get("/?period=<b>").content.decode()


def test_the_home_page_of_a_cashier_shows_their_store_only(cashier, sold_today):
    page = logged_in(cashier).get("/").content.decode()

    assert card(page, "sales") == "¥88.00"
    assert card(page, "member_share") == "100.0%"
    assert 'id="store-figures"' not in page and "滨江店" not in page
    assert [view["key"] for view in chart_spec(page)["views"]] == ["S1"]


def test_the_home_page_is_in_chinese_by_default(hq, sold_today):
    page = logged_in(hq, language="zh-hans").get("/").content.decode()
    assert "会员消费占比" in page and "本周" in page
    assert "Member share" not in page


# --- at a million: settled days, estimated totals (docs/scale.md) ------------------------------


def test_a_second_read_from_the_settled_days_matches_a_cold_read_and_sees_a_late_entry(
    hq, system, stores, scripted, monday
):
    first = home_figures(hq, now=scripted)  # Monday is two days ago or more: settled, cached
    again = home_figures(hq, now=scripted)
    assert by_store(again.periods["month"]) == by_store(first.periods["month"])

    # A top-up dated Monday posted after the days were settled still counts (id past the mark).
    member = Member.objects.get(mobile="13800138003")
    when = ledger.Context(store=stores["S1"], occurred_at=at(monday, 14))
    ledger.top_up(system, member, 10000, key="t-late", context=when)
    late = home_figures(hq, now=scripted)
    assert by_store(late.periods["today"])["S1"] == S1_TODAY | {"topups": 60000}

    cache.clear()
    cold = home_figures(hq, now=scripted)
    for key in ("today", "week", "month"):
        assert by_store(cold.periods[key]) == by_store(late.periods[key])
    assert cold.chart == late.chart


def test_the_days_before_yesterday_are_summed_once_a_day(scripted):
    asked: list[str] = []

    def sums(rows):
        asked.append(str(rows.query))
        return [{"n": rows.count()}]

    entries = Entry.objects.all()
    today = dt.datetime.now(SHANGHAI).date()
    first = settled_then_live(entries, "occurred_at", SHANGHAI, today, sums)
    second = settled_then_live(entries, "occurred_at", SHANGHAI, today, sums)

    assert len(asked) == 3  # settled + live, then live only
    assert sum(row["n"] for row in first) == Entry.objects.count()
    assert second == first
    tomorrow = settled_then_live(entries, "occurred_at", SHANGHAI, today + dt.timedelta(1), sums)
    assert len(asked) == 5 and tomorrow == first  # a new day settles again


def test_members_in_all_are_counted_exactly_when_few(hq, sold_today):
    counted = members_in_all(hq)
    assert (counted.value, counted.exact) == (1, True)
    page = logged_in(hq, language="zh-hans").get("/").content.decode()
    assert "共 1 人" in page


def test_a_past_walk_in_sale_given_to_a_member_counts_as_a_members_sale_again(hq, system, scripted):
    before = home_figures(hq, now=scripted)  # Sunday's sums settled and cached
    assert by_store(before.periods["month"])["S2"] == S2_MONTH

    walk_in = Sale.objects.get(idempotency_key="s4")  # Sunday, 2 x 10.00, one refunded
    attach_sales(system, Member.objects.get(mobile="13800138002"), [walk_in.pk])
    after = home_figures(hq, now=scripted)
    # 80.00 + the walk-in's 20.00 - its 10.00 refunded (the refund is a member's too now)
    assert by_store(after.periods["month"])["S2"] == S2_MONTH | {"member_sales": 9000}

    cache.clear()
    assert by_store(home_figures(hq, now=scripted).periods["month"]) == by_store(
        after.periods["month"]
    )


def test_a_merchant_with_no_ledger_accounts_yet_has_an_empty_home(hq):
    figures = home_figures(hq)
    assert figures_of(figures.periods["month"].total) == dict.fromkeys(S1_TODAY, 0)
