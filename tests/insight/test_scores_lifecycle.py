"""Lifecycle (F-30): stages at their thresholds in the merchant's zone, own cycle against the
default, the floor, the 365-day rule, one LifecycleChange per change, a live sale waking a
dormant member."""

from __future__ import annotations

import datetime as dt

import pytest

from patron.insight import lifecycle, stats
from patron.insight.models import LifecycleChange
from patron.insight.program import DEFAULTS, LifecyclePolicy
from patron.program.services import apply_program
from patron.sales import services as sales
from tests.insight.scores_support import insight, local, member, refresh, sale

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

AS_OF = local(2026, 6, 15, 0, 10)  # ten past midnight, Shanghai


def days_before(days: int, hour: int = 0) -> dt.datetime:
    day = AS_OF.date() - dt.timedelta(days=days)
    return local(day.year, day.month, day.day, hour)


def stage_after(system, *purchases: dt.datetime, joined: dt.datetime | None = None) -> str:
    who = member(system, f"1390000{LifecycleChange.objects.count() + member_count():04d}", joined)
    for at in purchases:
        sale(who, 1000, at)
    refresh(system.merchant, AS_OF)
    return insight(who).lifecycle


def member_count() -> int:
    from patron.members.models import Member

    return Member.objects.count()


@pytest.mark.parametrize(
    ("recency", "expected"),
    [
        (0, "excited"),
        (15, "excited"),
        (16, "active"),
        (45, "active"),
        (46, "inert"),
        (90, "inert"),
        (91, "dormant"),
    ],
)
def test_few_purchases_use_the_default_cycle_of_30_days(system, stores, recency, expected):
    # One purchase day: 30 days; 0.5 x 30 = 15, 1.5 x 30 = 45, 3 x 30 = 90.
    assert stage_after(system, days_before(recency), joined=days_before(400)) == expected


def test_the_last_purchase_late_yesterday_is_one_day_ago_in_the_merchants_zone(system, stores):
    # 23:30 on 14 June in Shanghai is the same UTC day as as_of (00:10 on 15 June): counted
    # in UTC the recency would be 0 and the member excited.
    apply_program(
        system,
        {"insight": {"lifecycle": {"default_cycle_days": 2, "min_cycle_days": 1, "excited": 0.4}}},
    )
    late = member(system, "13900000101", joined=days_before(30))
    sale(late, 1000, local(2026, 6, 14, 23, 30))
    early = member(system, "13900000102", joined=days_before(30))
    sale(early, 1000, local(2026, 6, 15, 0, 5))
    refresh(system.merchant, AS_OF)
    assert insight(late).lifecycle == "active"  # 1 / 2 = 0.5 > 0.4
    assert insight(early).lifecycle == "excited"  # 0 / 2


def test_a_member_with_enough_purchase_days_is_measured_by_their_own_cycle(system, stores):
    # Three purchase days ten days apart: a cycle of 10; 16 days later is 1.6 cycles.
    own = stage_after(system, days_before(36), days_before(26), days_before(16))
    # Two purchase days (below min_visits 3): the default 30 days, 16 / 30 = 0.53.
    default = stage_after(system, days_before(26), days_before(16))
    assert (own, default) == ("inert", "active")


def test_a_daily_regular_is_not_dormant_after_four_days(system, stores):
    daily = [days_before(day) for day in range(4, 34)]  # a cycle of 1 day, floored at 7
    assert stage_after(system, *daily) == "active"  # 4 / 7 = 0.57


def test_no_purchase_for_more_than_365_days_is_dormant_whatever_the_cycle(system, stores):
    # A cycle of 200 days: 365 days is 1.8 cycles (inert), 366 days is past the rule.
    slow = [days_before(765), days_before(565)]
    assert stage_after(system, *slow, days_before(365)) == "inert"
    assert stage_after(system, *slow, days_before(366)) == "dormant"


def test_a_member_who_never_bought_counts_from_joining(system, stores):
    assert stage_after(system, joined=days_before(10)) == "excited"
    assert stage_after(system, joined=days_before(100)) == "dormant"


def test_each_change_is_recorded_once_the_first_from_nothing(system, stores):
    ann = member(system, "13900000201", joined=days_before(400))
    sale(ann, 1000, days_before(20))
    refresh(system.merchant, AS_OF)
    refresh(system.merchant, AS_OF)  # again: nothing moves
    changes = list(LifecycleChange.objects.filter(member=ann).values_list("from_stage", "to_stage"))
    assert changes == [("", "active")]
    assert insight(ann).lifecycle_since == AS_OF
    later = AS_OF + dt.timedelta(days=30)
    stats.refresh_stats(system.merchant, later)
    lifecycle.refresh_lifecycle(system.merchant, later)  # 50 days: inert
    changes = list(
        LifecycleChange.objects.filter(member=ann)
        .order_by("pk")
        .values_list("from_stage", "to_stage", "occurred_at")
    )
    assert changes == [("", "active", AS_OF), ("active", "inert", later)]


def test_a_live_sale_wakes_a_dormant_member_in_its_transaction(system, stores):
    apply_program(system, {"categories": ["dishes"]})
    ann = member(system, "13900000301", joined=local(2024, 1, 1))
    sale(ann, 1000, local(2024, 2, 1))
    refresh(system.merchant, dt.datetime.now(dt.UTC))
    assert insight(ann).lifecycle == "dormant"
    sales.commit_sale(
        system,
        sales.SaleRequest(
            lines=[sales.LineInput(sku="DISH", category="dishes", unit_price=2500)],
            member=ann.pk,
            store="S1",
        ),
    )
    found = insight(ann)
    assert found.lifecycle == "excited"
    assert found.visits_12m == 1 and found.spend_12m == 2500 and found.purchase_days == 2
    moves = LifecycleChange.objects.filter(member=ann).order_by("pk")
    assert [(c.from_stage, c.to_stage) for c in moves] == [("", "dormant"), ("dormant", "excited")]


def test_the_stage_rule_by_itself():
    policy = LifecyclePolicy()
    assert policy == DEFAULTS
    assert lifecycle.stage(15, 1, None, policy) == "excited"
    assert lifecycle.stage(15, 5, 10.0, policy) == "active"  # 1.5 cycles
    assert lifecycle.stage(3, 5, 1.0, policy) == "excited"  # the 7-day floor: 3 / 7
    assert lifecycle.stage(366, 5, 400.0, policy) == "dormant"
