"""When campaigns run: the cron check, the calendar's times in the merchant's zone (daylight
saving included) and the scheduler job, which starts each due run once."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from patron.campaigns import schedules
from patron.campaigns.models import Campaign, CampaignRun
from tests.campaigns.journeys_support import Recorder, install

UTC = dt.UTC
SHANGHAI = ZoneInfo("Asia/Shanghai")

# Row locks (skip_locked) and JSON lookups behave differently on PostgreSQL.
pytestmark = pytest.mark.postgres


@pytest.fixture
def recorder(monkeypatch) -> Recorder:
    return install(monkeypatch)


def campaign(merchant, kind, schedule, **fields) -> Campaign:
    return Campaign.objects.create(
        merchant=merchant,
        name="promo",
        kind=kind,
        status=fields.pop("status", Campaign.Status.SCHEDULED),
        schedule=schedule,
        actions=[{"type": "message", "channel": "inbox", "template": "promotion"}],
        **fields,
    )


@pytest.mark.parametrize("expr", ["0 0 30 2 *", "0 0 31 4 *", "0 0 31 2,4,6 *"])
def test_a_cron_that_never_fires_is_refused_in_chinese(expr):
    message = schedules.check_cron(expr)
    assert message is not None and "从不" in message and expr in message


@pytest.mark.parametrize("expr", ["61 * * * *", "every day", "* * * *", "0 25 * * *", ""])
def test_a_cron_that_does_not_parse_is_refused(expr):
    message = schedules.check_cron(expr)
    assert message is not None and "cron" in message


@pytest.mark.parametrize("expr", ["0 10 * * 1", "*/15 * * * *", "0 0 29 2 *", "0 9 1 * *"])
def test_a_good_cron_passes(expr):
    assert schedules.check_cron(expr) is None


def test_next_runs_across_days_in_shanghai(merchant):
    daily = campaign(merchant, Campaign.Kind.RECURRING, {"cron": "30 23 * * *"})
    runs = schedules.next_runs(
        daily,
        dt.datetime(2026, 12, 6, 0, 0, tzinfo=UTC),
        dt.datetime(2026, 12, 9, 0, 0, tzinfo=UTC),
    )
    # 23:30 in Shanghai is 15:30 UTC the same day: the 6th, 7th and 8th.
    assert [r.astimezone(UTC) for r in runs] == [
        dt.datetime(2026, 12, d, 15, 30, tzinfo=UTC) for d in (6, 7, 8)
    ]
    assert all(r.astimezone(SHANGHAI).hour == 23 for r in runs)


def test_next_runs_weekly_and_range_ends_are_half_open(merchant):
    weekly = campaign(merchant, Campaign.Kind.RECURRING, {"cron": "0 10 * * 1"})
    monday_ten = dt.datetime(2026, 12, 7, 10, tzinfo=SHANGHAI)
    runs = schedules.next_runs(weekly, monday_ten, monday_ten + dt.timedelta(days=14))
    assert runs == [monday_ten, monday_ten + dt.timedelta(days=7)]


def test_daylight_saving_neither_skips_nor_doubles(merchant):
    merchant.timezone = "Europe/Berlin"
    merchant.save()
    nightly = campaign(merchant, Campaign.Kind.RECURRING, {"cron": "30 2 * * *"})
    berlin = ZoneInfo("Europe/Berlin")
    spring = schedules.next_runs(
        nightly, dt.datetime(2026, 3, 28, tzinfo=berlin), dt.datetime(2026, 3, 31, tzinfo=berlin)
    )
    assert len(spring) == 3  # 02:30 on the 29th does not exist: it runs just after the gap
    assert spring[1].astimezone(UTC) == dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    autumn = schedules.next_runs(
        nightly, dt.datetime(2026, 10, 24, tzinfo=berlin), dt.datetime(2026, 10, 27, tzinfo=berlin)
    )
    assert len(autumn) == 3  # 02:30 on the 25th happens twice on the wall clock: once here
    assert len({r.astimezone(UTC) for r in autumn}) == 3


def test_once_and_trigger_times(merchant):
    at = "2026-12-24T10:00:00+08:00"
    once = campaign(merchant, Campaign.Kind.ONCE, {"at": at})
    start, end = dt.datetime(2026, 12, 1, tzinfo=UTC), dt.datetime(2027, 1, 1, tzinfo=UTC)
    assert schedules.next_runs(once, start, end) == [dt.datetime(2026, 12, 24, 2, tzinfo=UTC)]
    assert schedules.next_runs(once, end, end + dt.timedelta(days=30)) == []
    assert schedules.next_run_at(once, start) == dt.datetime(2026, 12, 24, 2, tzinfo=UTC)
    late = dt.datetime(2026, 12, 25, tzinfo=UTC)
    assert schedules.next_run_at(once, late) == late  # launched after its date: runs at once
    journey = campaign(merchant, Campaign.Kind.TRIGGER, {}, trigger={"event": "birthday"})
    assert schedules.next_runs(journey, start, end) == []
    assert schedules.next_run_at(journey, start) is None


def test_next_run_at_recurring_is_the_next_cron_time(merchant):
    weekly = campaign(merchant, Campaign.Kind.RECURRING, {"cron": "0 10 * * 1"})
    sunday = dt.datetime(2026, 12, 6, 12, tzinfo=SHANGHAI)
    assert schedules.next_run_at(weekly, sunday) == dt.datetime(2026, 12, 7, 10, tzinfo=SHANGHAI)


def test_a_due_run_starts_once_even_if_the_job_runs_twice(merchant, recorder):
    weekly = campaign(
        merchant,
        Campaign.Kind.RECURRING,
        {"cron": "0 10 * * 1"},
        next_run_at=dt.datetime(2026, 12, 7, 10, tzinfo=SHANGHAI),
    )
    now = dt.datetime(2026, 12, 7, 10, 0, 30, tzinfo=SHANGHAI)
    assert schedules.start_due_runs(now) == 1
    assert schedules.start_due_runs(now) == 0
    assert recorder.runs == [(weekly.pk, "2026-12-07 10:00")]
    weekly.refresh_from_db()
    assert weekly.status == Campaign.Status.RUNNING
    assert weekly.next_run_at == dt.datetime(2026, 12, 14, 10, tzinfo=SHANGHAI)
    # A second worker that read the old next_run_at: the run of that occurrence exists.
    Campaign.objects.filter(pk=weekly.pk).update(
        next_run_at=dt.datetime(2026, 12, 7, 10, tzinfo=SHANGHAI)
    )
    assert schedules.start_due_runs(now) == 0
    assert len(recorder.runs) == 1
    assert CampaignRun.objects.filter(campaign=weekly).count() == 1


def test_runs_missed_while_no_worker_ran_are_not_sent_in_a_burst(merchant, recorder):
    daily = campaign(
        merchant,
        Campaign.Kind.RECURRING,
        {"cron": "0 10 * * *"},
        next_run_at=dt.datetime(2026, 12, 1, 10, tzinfo=SHANGHAI),
    )
    now = dt.datetime(2026, 12, 7, 11, tzinfo=SHANGHAI)
    assert schedules.start_due_runs(now) == 1
    daily.refresh_from_db()
    assert daily.next_run_at == dt.datetime(2026, 12, 8, 10, tzinfo=SHANGHAI)


def test_a_one_off_runs_once_and_is_done_when_its_run_is(merchant, recorder):
    at = dt.datetime(2026, 12, 24, 10, tzinfo=SHANGHAI)
    once = campaign(merchant, Campaign.Kind.ONCE, {"at": at.isoformat()}, next_run_at=at)
    paused = campaign(
        merchant, Campaign.Kind.ONCE, {}, next_run_at=at, status=Campaign.Status.PAUSED
    )
    assert schedules.start_due_runs(at - dt.timedelta(minutes=1)) == 0
    assert schedules.start_due_runs(at) == 1
    assert recorder.runs == [(once.pk, "once")]
    once.refresh_from_db()
    assert once.next_run_at is None and once.status == Campaign.Status.RUNNING
    CampaignRun.objects.filter(campaign=once).update(status=CampaignRun.Status.DONE)
    schedules.start_due_runs(at + dt.timedelta(minutes=1))
    once.refresh_from_db()
    assert once.status == Campaign.Status.DONE and once.finished_at is not None
    paused.refresh_from_db()
    assert paused.status == Campaign.Status.PAUSED and paused.next_run_at == at


@pytest.mark.parametrize(
    ("trigger", "field"),
    [
        ({"event": "birthday", "calendar": "moon"}, "calendar"),
        ({"event": "birthday", "when": "week"}, "when"),
        ({"event": "birthday", "days_before": -1}, "days_before"),
        ({"event": "birthday", "when": "month", "days_before": 3}, "days_before"),
        ({"event": "lifecycle.changed", "to": "asleep"}, "to"),
        ({"event": "tier.changed", "direction": "sideways"}, "direction"),
        ({"event": "sale.completed", "delay_hours": "2"}, "delay_hours"),
        ({"event": "sale.completed", "delay_hour": 2}, "delay_hour"),
        ({"event": "sale.completed", "stored_value_below": 0}, "stored_value_below"),
        ({"event": "sale.completed", "stored_value_below": 100, "delay_hours": 1}, "delay_hours"),
        ({"event": "points.expiring", "days": 0}, "days"),
        ({"event": "tier.changed", "days": 7}, "days"),
    ],
)
def test_bad_trigger_options_are_refused(trigger, field):
    errors = schedules.check_trigger(trigger)
    assert field in [name for name, _ in errors]
    assert all(message for _, message in errors)


@pytest.mark.parametrize(
    "trigger",
    [
        {"event": "birthday", "calendar": "lunar", "when": "day", "days_before": 3},
        {"event": "birthday"},
        {"event": "lifecycle.changed", "to": "dormant"},
        {"event": "tier.changed", "direction": "down"},
        {"event": "sale.completed", "delay_hours": 2},
        {"event": "topup.completed", "stored_value_below": 10000},
        {"event": "points.expiring", "days": 30},
        {"event": "complaint"},
        {"event": "member.joined"},
    ],
)
def test_good_trigger_options_pass(trigger):
    assert schedules.check_trigger(trigger) == []
