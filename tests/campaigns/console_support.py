"""Stand-ins for the other campaign parts while the console is built on its own branch.

The engine (audience, services, report), journeys (schedules) and channels (available,
templating) parts fill those modules in parallel; until they land, the console tests put these
small, honest versions in their place with monkeypatch (raising=False: the names may not exist
yet). At merge, `engine_parts` is dropped and the tests run against the real modules.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from croniter import croniter
from django.utils import timezone

from patron.campaigns import audience, channels, report, schedules, services, templating
from patron.campaigns.models import Campaign, CampaignRun, MessageTemplate
from patron.core.errors import DomainError, FieldError, ValidationFailed
from patron.insight import segments
from patron.insight.models import Segment
from patron.members.models import Member
from patron.tenancy.actor import Actor

REPORT = {
    "targeted": 100,
    "holdout": 10,
    "reached": 80,
    "suppressed": {"consent": 6, "cap": 3, "quiet_hours": 1, "opted_out": 0},
    "redeemed": 12,
    "revenue": 345600,
    "cost": 12000,
    "uplift": {"treated_rate": 0.15, "holdout_rate": 0.05, "diff": 0.10, "ci95": [0.03, 0.17]},
}


def members_of(merchant, target: dict[str, Any]):
    system = Actor.system(merchant)
    if "segment" in target:
        segment = Segment.objects.filter(merchant=merchant, pk=target["segment"]).first()
        if segment is None:
            raise ValidationFailed([FieldError("audience.segment", "没有这个分群")])
        return segments.segment_members(system, segment.filter)
    return segments.segment_members(system, target["filter"])


def validate(data: dict[str, Any]) -> None:
    errors = []
    if not data["actions"]:
        errors.append(FieldError("actions", "至少要有一个动作"))
    for index, action in enumerate(data["actions"]):
        template = action.get("template")
        if action["type"] == "message" and isinstance(template, str) and "{nope}" in template:
            errors.append(FieldError(f"actions[{index}].template", "未知变量 {nope}"))
    if errors:
        raise ValidationFailed(errors)


def create_campaign(actor: Actor, data: dict[str, Any]) -> Campaign:
    validate(data)
    return Campaign.objects.create(merchant=actor.merchant, created_by=actor.user, **data)


def update_campaign(actor: Actor, campaign: Campaign, data: dict[str, Any]) -> Campaign:
    validate(data)
    for key, value in data.items():
        setattr(campaign, key, value)
    campaign.save()
    return campaign


def launch(actor: Actor, campaign: Campaign, now: dt.datetime | None = None) -> Campaign:
    campaign.status = Campaign.Status.RUNNING
    campaign.launched_at = timezone.now()
    campaign.save()
    total = members_of(campaign.merchant, campaign.audience).count() if campaign.audience else 0
    CampaignRun.objects.create(
        campaign=campaign, occurrence="once", status=CampaignRun.Status.RUNNING, total=total
    )
    return campaign


def set_status(status: str):
    def change(actor: Actor, campaign: Campaign) -> Campaign:
        if campaign.status == Campaign.Status.CANCELLED:
            raise DomainError("活动已取消")
        campaign.status = status
        campaign.save()
        return campaign

    return change


def next_runs(campaign: Campaign, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    if "at" in campaign.schedule:
        at = dt.datetime.fromisoformat(campaign.schedule["at"])
        return [at] if start <= at < end else []
    if "cron" in campaign.schedule:
        runs, it = [], croniter(campaign.schedule["cron"], timezone.localtime(start))
        while (run := it.get_next(dt.datetime)) < end and len(runs) < 400:
            runs.append(run)
        return runs
    return []


def check_cron(expr: str) -> str | None:
    return None if croniter.is_valid(expr) else "无法解析的 cron"


def resolve(merchant, ref: Any) -> MessageTemplate:
    if isinstance(ref, str) and (
        found := MessageTemplate.objects.filter(merchant=merchant, code=ref).first()
    ):
        return found
    return MessageTemplate(merchant=merchant, code="", name="", body_zh=str(ref))


def render(template: MessageTemplate, member: Member, context: dict, *, channel: str):
    body = template.body_zh.replace("{name}", member.name).replace(
        "{points}", str(context["points"])
    )
    if channel == "sms":
        body += " 回T退订"
    return "zh-hans", template.subject_zh, body


@pytest.fixture
def engine_parts(monkeypatch):
    """The other parts' functions the console calls, as small working versions."""
    patches = {
        audience: {
            "count": lambda merchant, target: members_of(merchant, target).count(),
            "members": members_of,
        },
        services: {
            "create_campaign": create_campaign,
            "update_campaign": update_campaign,
            "launch": launch,
            "pause": set_status(Campaign.Status.PAUSED),
            "resume": set_status(Campaign.Status.RUNNING),
            "cancel": set_status(Campaign.Status.CANCELLED),
        },
        report: {"report": lambda campaign: REPORT},
        schedules: {"next_runs": next_runs, "check_cron": check_cron},
        channels: {"available": lambda merchant: ["inbox", "sms"]},
        templating: {"resolve": resolve, "render": render},
    }
    for module, functions in patches.items():
        for name, function in functions.items():
            monkeypatch.setattr(module, name, function, raising=False)
