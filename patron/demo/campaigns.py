"""The demo's campaigns (F-35..F-40), made by the marketer through the campaign services:
two running journeys (birthday greetings, win-back of members who turn dormant), next week's
promotion waiting for the scheduler, a few message templates of the merchant's own, and a
one-off to the active members sent two weeks ago, so its page shows a real report: the
holdout, who was reached, and the revenue of the sales that followed.

The one-off is launched and run here, synchronously: the same calls its background job makes
(`delivery.contact` over the audience, then `record_progress`), on the clock of two weeks
ago, so the sales of the demo's history after it count in its window. The job the launch
queued finds the campaign done and drops itself.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from patron.campaigns import audience, delivery, services, template_services
from patron.campaigns.models import Campaign, CampaignRun
from patron.insight.segments import create_segment
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role, Staff
from patron.tenancy.permissions import merchant_zone

SENT_DAYS_AGO = 14
SEND_HOUR = 10  # local: outside the quiet hours, when people read their messages
ACTIVE = {"all": [{"field": "lifecycle", "op": "eq", "value": "active"}]}
DORMANT = {"all": [{"field": "lifecycle", "op": "eq", "value": "dormant"}]}

TEMPLATES = [
    {
        "code": "spring_menu",
        "name": "春季新菜上市",
        "purpose": "information",
        "subject_zh": "{merchant}春季新菜",
        "subject_en": "Spring dishes at {merchant}",
        "body_zh": "{name}，{merchant}春季新菜上市：龙井虾仁、腌笃鲜，欢迎到店品尝。",
        "body_en": "{name}, spring dishes are here at {merchant}: come and taste them.",
    },
    {
        "code": "member_day",
        "name": "会员日专享",
        "purpose": "promotion",
        "subject_zh": "会员日专享",
        "subject_en": "Members' day",
        "body_zh": "{name}，本周六会员日全场88折，您还有{points}积分可抵现。",
        "body_en": "{name}, 12% off everything this Saturday; you have {points} points to use.",
    },
    {
        "code": "thanks_visit",
        "name": "到店感谢",
        "purpose": "care",
        "subject_zh": "感谢光临",
        "subject_en": "Thank you",
        "body_zh": "{name}，感谢您今天光临{store}，期待下次再见。",
        "body_en": "{name}, thank you for visiting {store} today.",
    },
]


def marketer(merchant) -> Actor:
    """The demo's marketer (市场专员): the campaigns are theirs in the audit log."""
    staff = Staff.objects.select_related("user").get(merchant=merchant, role=Role.MARKETER)
    return Actor(merchant=merchant, staff=staff, channel="console")


def local_at(merchant, day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=merchant_zone(merchant.timezone))


def journeys(actor: Actor) -> list[Campaign]:
    birthday = {
        "name": "生日祝福",
        "kind": "trigger",
        "purpose": "care",
        "trigger": {"event": "birthday", "calendar": "member", "when": "day"},
        "actions": [{"type": "message", "channel": "inbox", "template": "birthday"}],
    }
    win_back = {
        "name": "沉睡会员唤醒",
        "kind": "trigger",
        "purpose": "care",
        "trigger": {"event": "lifecycle.changed", "to": "dormant"},
        "actions": [
            {"type": "message", "channel": "inbox", "template": "win_back"},
            {"type": "points", "points": 200},
        ],
        "caps": {"per_member_per_7d": 2},
    }
    return [
        services.launch(actor, services.create_campaign(actor, body))
        for body in (birthday, win_back)
    ]


def next_week_promotion(actor: Actor, now: dt.datetime) -> Campaign:
    """Next week's members' day, 10:00 local: launched, it waits for the scheduler."""
    day = timezone.localtime(now, merchant_zone(actor.merchant.timezone)).date()
    body: dict[str, Any] = {
        "name": "会员日专享礼遇",
        "kind": "once",
        "purpose": "promotion",
        "audience": {"filter": ACTIVE},
        "schedule": {"at": local_at(actor.merchant, day + dt.timedelta(days=7), 10).isoformat()},
        "actions": [{"type": "message", "channel": "inbox", "template": "member_day"}],
        "caps": {"per_member_per_7d": 2},
        "quiet_hours": ["21:00", "09:00"],
        "budget_fen": 200000,
    }
    return services.launch(actor, services.create_campaign(actor, body))


def sent_one_off(actor: Actor, now: dt.datetime) -> Campaign:
    """The spring menu to the active members, sent two weeks ago with a 10 % holdout."""
    segment, _count = create_segment(actor, "活跃会员", ACTIVE)
    body = {
        "name": "春季新菜上市通知",
        "kind": "once",
        "purpose": "information",
        "audience": {"segment": segment.pk},
        "actions": [{"type": "message", "channel": "inbox", "template": "spring_menu"}],
        "holdout_percent": 10,
        "window_days": 14,
    }
    zone = merchant_zone(actor.merchant.timezone)
    sent = local_at(
        actor.merchant,
        timezone.localtime(now, zone).date() - dt.timedelta(days=SENT_DAYS_AGO),
        SEND_HOUR,
    )
    campaign = services.launch(actor, services.create_campaign(actor, body), now=sent)
    run = CampaignRun.objects.get(campaign=campaign, occurrence="once")
    members = audience.members(campaign.merchant, campaign.audience, sent)
    ids = list(members.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), delivery.CHUNK):
        chunk = ids[start : start + delivery.CHUNK]
        delivery.contact(campaign, chunk, occurrence="once", run=run, now=sent)
        delivery.record_progress(run.pk, len(chunk), now=sent)
    campaign.refresh_from_db()
    return campaign


def seed_campaigns(merchant, now: dt.datetime | None = None) -> list[Campaign]:
    now = now or timezone.now()
    actor = marketer(merchant)
    for data in TEMPLATES:
        template_services.create_template(actor, data)
    return [*journeys(actor), next_week_promotion(actor, now), sent_one_off(actor, now)]
