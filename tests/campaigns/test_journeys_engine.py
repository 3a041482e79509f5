"""The journeys with the engine's real pipeline: a launched journey reaches members through
`delivery.contact` (targets and inbox messages), the scheduler through `start_run`."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from patron.campaigns import delivery, journeys, schedules, services
from patron.campaigns.models import Campaign, CampaignRun, Message, Target
from patron.events.dispatch import dispatch_pending
from patron.events.services import emit

# Until the engine part is merged (its fixtures and its pipeline), this module skips.
engine = pytest.importorskip("tests.campaigns.conftest", reason="needs the engine part")
pytestmark = pytest.mark.skipif(
    not hasattr(delivery, "contact"), reason="needs the engine part's delivery pipeline"
)
EVERYONE, make_members, spec = engine.EVERYONE, engine.make_members, engine.spec
SHANGHAI = ZoneInfo("Asia/Shanghai")


def launched(system, **changes) -> Campaign:
    campaign = services.create_campaign(system, spec(**changes))
    return services.launch(system, campaign)


def test_a_thanks_journey_queues_an_inbox_message_after_its_delay(merchant, system):
    member = make_members(merchant, 1)[0]
    thanks = launched(
        system,
        kind="trigger",
        audience={},
        trigger={"event": "sale.completed", "delay_hours": 2},
        actions=[{"type": "message", "channel": "inbox", "template": "{name}，谢谢光临"}],
    )
    assert thanks.status == Campaign.Status.RUNNING
    sale = emit(merchant.pk, "sale.completed", {"points_earned": 5}, member_id=member.pk)
    dispatch_pending()
    assert not Message.objects.filter(campaign=thanks).exists()
    journeys.send_due_steps(sale.created_at + dt.timedelta(hours=2, minutes=1))
    journeys.send_due_steps(sale.created_at + dt.timedelta(hours=3))
    message = Message.objects.get(campaign=thanks, member=member)
    assert message.body.startswith(member.name)
    assert Target.objects.get(campaign=thanks).occurrence == str(sale.uid)


def test_a_birthday_journey_reaches_the_member_once(merchant, system):
    member = make_members(merchant, 1, birthday=dt.date(1990, 12, 6))[0]
    greeting = launched(
        system,
        kind="trigger",
        audience={},
        trigger={"event": "birthday", "calendar": "solar"},
        actions=[{"type": "message", "channel": "inbox", "template": "{name}，生日快乐"}],
    )
    morning = dt.datetime(2026, 12, 6, 9, 5, tzinfo=SHANGHAI)
    assert journeys.greet_birthdays(merchant, morning) == 1
    assert journeys.greet_birthdays(merchant, morning + dt.timedelta(hours=1)) == 0
    assert Message.objects.filter(campaign=greeting, member=member).count() == 1


def test_the_scheduler_starts_a_recurring_campaign_through_the_engine(
    merchant, system, jobs_now, django_capture_on_commit_callbacks
):
    make_members(merchant, 3)
    weekly = launched(system, kind="recurring", audience=EVERYONE, schedule={"cron": "0 10 * * 1"})
    assert weekly.next_run_at is not None
    with django_capture_on_commit_callbacks(execute=True):  # the run's chunks, after commit
        assert schedules.start_due_runs(weekly.next_run_at) == 1
    assert schedules.start_due_runs(weekly.next_run_at) == 0
    run = CampaignRun.objects.get(campaign=weekly)
    assert run.occurrence.endswith("10:00")
    assert Message.objects.filter(campaign=weekly).count() == 3
