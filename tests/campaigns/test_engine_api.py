"""/campaigns (API.md §9): define, launch a one-off that runs in background chunks, report,
runs; bad input answers 422 with the field's path and writes nothing."""

from __future__ import annotations

import json

import pytest

from patron.campaigns import delivery
from patron.campaigns.models import Campaign, CampaignDefaults, CampaignRun, Message
from patron.promotions.models import CouponTemplate
from patron.tenancy.models import AuditEntry
from tests.campaigns.conftest import make_members, spec

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def post(api, path: str, body=None):
    return api.post(f"/api/v1{path}", json.dumps(body or {}), content_type="application/json")


def test_create_launch_run_and_report(
    api, merchant, jobs_now, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(delivery, "CHUNK", 40)  # several chunks, several jobs
    members = make_members(merchant, 100)
    answer = post(api, "/campaigns", spec(holdout_percent=10))
    assert answer.status_code == 201, answer.content
    created = answer.json()
    assert created["status"] == "draft"
    with django_capture_on_commit_callbacks(execute=True):
        launched = post(api, f"/campaigns/{created['id']}/launch")
    assert launched.status_code == 200, launched.content
    assert launched.json()["status"] == "running"

    runs = api.get(f"/api/v1/campaigns/{created['id']}/runs").json()
    assert [(r["occurrence"], r["status"], r["total"], r["processed"]) for r in runs] == [
        ("once", "done", 100, 100)
    ]
    campaign = Campaign.objects.get(pk=created["id"])
    assert campaign.status == Campaign.Status.DONE
    holdout = sum(delivery.in_holdout(campaign, m.pk) for m in members)
    assert Message.objects.filter(campaign=campaign, status="sent").count() == 100 - holdout

    report = api.get(f"/api/v1/campaigns/{created['id']}/report").json()
    assert report["targeted"] == 100
    assert report["holdout"] == holdout
    assert report["reached"] == 100 - holdout
    assert report["targeted"] == report["holdout"] + report["reached"] + sum(
        report["suppressed"].values()
    )
    assert set(report["uplift"]) == {"treated_rate", "holdout_rate", "diff", "ci95"}

    listed = api.get("/api/v1/campaigns").json()
    assert [c["id"] for c in listed] == [campaign.pk]
    assert (
        AuditEntry.objects.filter(object_type="campaign", object_id=str(campaign.pk)).count() == 2
    )


def test_pause_resume_cancel_and_patch(api, merchant):
    created = post(
        api, "/campaigns", spec(kind="trigger", trigger={"event": "birthday"}, audience={})
    ).json()
    path = f"/campaigns/{created['id']}"
    patched = api.patch(
        f"/api/v1{path}", json.dumps({"name": "生日关怀"}), content_type="application/json"
    )
    assert patched.status_code == 200 and patched.json()["name"] == "生日关怀"
    assert post(api, f"{path}/launch").json()["status"] == "running"
    assert post(api, f"{path}/launch").status_code == 409
    changed = api.patch(
        f"/api/v1{path}", json.dumps({"name": "x"}), content_type="application/json"
    )
    assert changed.status_code == 409 and changed.json()["code"] == "campaign_status"
    assert post(api, f"{path}/pause").json()["status"] == "paused"
    assert post(api, f"{path}/resume").json()["status"] == "running"
    assert post(api, f"{path}/cancel").json()["status"] == "cancelled"
    assert post(api, f"{path}/resume").status_code == 409


def test_another_merchants_campaign_is_404(api, other_api):
    created = post(api, "/campaigns", spec()).json()
    assert other_api.get(f"/api/v1/campaigns/{created['id']}").status_code == 404
    assert other_api.post(f"/api/v1/campaigns/{created['id']}/launch").status_code == 404


BAD = [
    (
        {"actions": [{"type": "message", "channel": "inbox", "template": "你好 {nickname}"}]},
        "actions[0].template",
    ),
    (
        {"actions": [{"type": "message", "channel": "inbox", "template": "你好 {name"}]},
        "actions[0].template",
    ),
    (
        {"actions": [{"type": "message", "channel": "inbox", "template": "NO_SUCH"}]},
        "actions[0].template",
    ),
    (
        {"actions": [{"type": "message", "channel": "pigeon", "template": "hi"}]},
        "actions[0].channel",
    ),
    ({"kind": "recurring", "schedule": {"cron": "0 0 30 2 *"}}, "schedule.cron"),
    ({"kind": "recurring", "schedule": {"cron": "every monday"}}, "schedule.cron"),
    ({"kind": "recurring"}, "schedule.cron"),
    ({"schedule": {"at": "tomorrow"}}, "schedule.at"),
    ({"audience": {}}, "audience"),
    ({"audience": {"segment": 999}}, "audience.segment"),
    (
        {"audience": {"filter": {"all": [{"field": "nope", "op": "eq", "value": 1}]}}},
        "audience.filter.all[0].field",
    ),
    ({"actions": []}, "actions"),
    ({"actions": [{"type": "coupon", "template": "NOPE"}]}, "actions[0].template"),
    ({"actions": [{"type": "coupon", "template": "GONE"}]}, "actions[0].template"),
    ({"actions": [{"type": "points", "points": 0}]}, "actions[0].points"),
    ({"actions": [{"type": "tier", "tier": "platinum"}]}, "actions[0].tier"),
    ({"actions": [{"type": "task", "assignee_role": "boss"}]}, "actions[0].assignee_role"),
    ({"holdout_percent": 60}, "holdout_percent"),
    ({"holdout_percent": -1}, "holdout_percent"),
    ({"caps": {"per_week": 2}}, "caps.per_member_per_7d"),
    ({"quiet_hours": ["9pm", "9am"]}, "quiet_hours"),
    ({"kind": "trigger"}, "trigger.event"),
    ({"kind": "sometimes"}, "kind"),
    ({"name": ""}, "name"),
]


@pytest.mark.parametrize(("change", "path"), BAD)
def test_bad_definitions_answer_422_with_the_path_and_write_nothing(api, merchant, change, path):
    CouponTemplate.objects.create(
        merchant=merchant,
        code="GONE",
        name="售罄券",
        benefit={"type": "fixed", "value": 500},
        valid_days=30,
        stock=1,
        issued_count=1,
    )
    answer = post(api, "/campaigns", spec(**change))
    assert answer.status_code == 422, answer.content
    problem = answer.json()
    assert problem["code"] == "validation_error"
    assert path in [e["field"] for e in problem["errors"]], problem
    assert not Campaign.objects.exists()
    assert not AuditEntry.objects.filter(object_type="campaign").exists()


def test_merchant_defaults_are_copied_into_new_campaigns(api, merchant):
    CampaignDefaults.objects.create(
        merchant=merchant, caps={"per_member_per_7d": 2}, quiet_hours=["21:00", "09:00"]
    )
    body = spec()
    body.pop("holdout_percent")
    created = post(api, "/campaigns", body).json()
    campaign = Campaign.objects.get(pk=created["id"])
    assert campaign.caps == {"per_member_per_7d": 2}
    assert campaign.quiet_hours == ["21:00", "09:00"]
    assert campaign.holdout_percent == 10
    own = post(api, "/campaigns", spec(caps={}, quiet_hours=[])).json()
    assert Campaign.objects.get(pk=own["id"]).caps == {}


def test_program_section_campaigns_sets_the_defaults(system, merchant):
    from patron.program.services import apply_program

    apply_program(system, {"campaigns": {"caps": {"per_member_per_7d": 3}, "holdout_percent": 5}})
    defaults = CampaignDefaults.objects.get(merchant=merchant)
    assert (defaults.caps, defaults.holdout_percent) == ({"per_member_per_7d": 3}, 5)


def test_run_of_an_empty_audience_is_done_at_once(system, merchant):
    from patron.campaigns import services

    campaign = services.create_campaign(system, spec())
    services.launch(system, campaign)
    run = CampaignRun.objects.get(campaign=campaign)
    assert (run.status, run.total) == ("done", 0)
