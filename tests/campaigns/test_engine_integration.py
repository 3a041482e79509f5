"""The engine with the other parts of issue 17: provider template codes from templating,
consent from optout in bulk, runs started in any zone, the journeys' triggers in the API."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo

import pytest
from django.utils import timezone

from patron.campaigns import delivery, journeys, send_tasks
from patron.campaigns.models import Campaign, CampaignRun, Message, MessageTemplate, Target
from patron.campaigns.optout import opt_out
from patron.insight.models import FollowUpTask, MemberEvent
from tests.campaigns.channels_support import configure, member
from tests.campaigns.conftest import make_members, spec
from tests.campaigns.fakes import FakeAliyun

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOON = dt.datetime(2026, 12, 6, 12, 0, tzinfo=SHANGHAI)


def post(api, path: str, body=None):
    return api.post(f"/api/v1{path}", json.dumps(body or {}), content_type="application/json")


def test_a_complaint_journey_is_created_launched_and_follows_up(api, merchant):
    body = {
        "name": "投诉回访",
        "kind": "trigger",
        "trigger": {"event": "complaint"},
        "actions": [
            {"type": "message", "channel": "inbox", "template": "complaint_follow_up"},
            {"type": "task", "assignee_role": "store_manager"},
        ],
        "holdout_percent": 0,
    }
    created = post(api, "/campaigns", body)
    assert created.status_code == 201, created.content
    launched = post(api, f"/campaigns/{created.json()['id']}/launch")
    assert launched.status_code == 200, launched.content
    assert launched.json()["status"] == "running"

    someone = make_members(merchant, 1)[0]
    complaint = MemberEvent.objects.create(
        merchant=merchant,
        member=someone,
        kind="complaint",
        body="咖啡凉了",
        occurred_at=timezone.now(),
    )
    assert journeys.follow_up_complaints(merchant) == 1
    target = Target.objects.get(campaign_id=created.json()["id"])
    assert (target.member_id, target.occurrence) == (someone.pk, f"complaint:{complaint.pk}")
    assert Message.objects.filter(target=target, channel="inbox").count() == 1
    assert FollowUpTask.objects.filter(event__member=someone).count() == 1


def test_a_journey_on_its_own_messages_is_refused(api):
    body = spec(kind="trigger", trigger={"event": "message.sent"})
    answer = post(api, "/campaigns", body)
    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["trigger.event"]
    assert not Campaign.objects.exists()


@pytest.mark.parametrize("zone", [SHANGHAI, dt.UTC, zoneinfo.ZoneInfo("America/New_York")])
def test_chunks_of_a_run_started_in_any_zone_are_contacted(
    system, zone, jobs_now, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(delivery, "CHUNK", 4)
    members = make_members(system.merchant, 10)
    campaign = Campaign.objects.create(
        merchant=system.merchant, status=Campaign.Status.RUNNING, **_once_inbox()
    )
    with django_capture_on_commit_callbacks(execute=True):
        run = delivery.start_run(campaign, "once", now=timezone.now().astimezone(zone))
    run.refresh_from_db()
    assert (run.status, run.processed, run.total) == ("done", 10, 10)
    assert Target.objects.filter(campaign=campaign).count() == len(members)


def test_a_chunk_of_an_earlier_start_is_dropped(system):
    members = make_members(system.merchant, 3)
    campaign = Campaign.objects.create(
        merchant=system.merchant, status=Campaign.Status.RUNNING, **_once_inbox()
    )
    run = delivery.start_run(campaign, "once", now=NOON)
    earlier = (NOON - dt.timedelta(minutes=5)).isoformat()
    assert send_tasks.contact_chunk.call_local(run.pk, earlier, [m.pk for m in members]) == 0
    assert not Target.objects.filter(campaign=campaign).exists()
    same_instant = NOON.astimezone(dt.UTC).isoformat()
    assert send_tasks.contact_chunk.call_local(run.pk, same_instant, [m.pk for m in members]) == 3
    assert CampaignRun.objects.get(pk=run.pk).status == "done"


def test_sms_with_a_provider_template_goes_to_aliyun_with_its_code_and_values(
    system, stores, running
):
    MessageTemplate.objects.create(
        merchant=system.merchant,
        code="points_note",
        name="积分提醒",
        body_zh="{name}，您有{points}积分",
        provider_code="SMS_100",
    )
    campaign = running(actions=[{"type": "message", "channel": "sms", "template": "points_note"}])
    someone = member(system, "13800138001", consent_sms=True)
    delivery.contact(campaign, [someone.pk], occurrence="o", context={someone.pk: {"points": 120}})
    message = Message.objects.get(campaign=campaign)
    assert (message.provider_template, message.params) == (
        "SMS_100",
        {"name": "张三", "points": "120"},
    )
    with FakeAliyun() as fake:
        configure(system.merchant, sms=fake.settings())
        assert send_tasks.deliver([message.pk]) == 1
    assert [(row["template"], row["params"]) for row in fake.sent] == [
        ("SMS_100", {"name": "张三", "points": "120"})
    ]
    message.refresh_from_db()
    assert message.status == Message.Status.SENT and message.provider == "aliyun"


def test_consent_in_bulk_tells_never_granted_from_opted_out(system, stores, running):
    campaign = running(actions=[{"type": "message", "channel": "sms", "template": "{name}您好"}])
    granted = member(system, "13800138001", consent_sms=True)
    withdrew = opt_out(member(system, "13800138002", consent_sms=True), "sms")
    never = member(system, "13800138003")
    delivery.contact(campaign, [granted.pk, withdrew.pk, never.pk], occurrence="o", now=NOON)
    outcomes = dict(Target.objects.filter(campaign=campaign).values_list("member_id", "reason"))
    assert outcomes == {granted.pk: "", withdrew.pk: "opted_out", never.pk: "consent"}
    assert list(Message.objects.filter(campaign=campaign).values_list("member_id", flat=True)) == [
        granted.pk
    ]


def _once_inbox() -> dict:
    return {
        "name": "会员日",
        "kind": "once",
        "audience": {"filter": {"all": []}},
        "actions": [{"type": "message", "channel": "inbox", "template": "{name}，会员日快乐"}],
        "holdout_percent": 0,
    }
