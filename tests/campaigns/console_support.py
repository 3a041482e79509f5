"""Helpers of the console's tests: three named members, a segment of the women, campaigns made
through the real services, and a launch whose background jobs run at once (as a worker would).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client

from patron.campaigns import services
from patron.campaigns.models import Campaign
from patron.insight.models import Segment
from patron.members.models import Member
from patron.tenancy.actor import Actor

WOMEN = {"all": [{"field": "gender", "op": "eq", "value": "F"}]}
MEN = {"all": [{"field": "gender", "op": "eq", "value": "M"}]}
PEOPLE = (("李娜", "F"), ("王芳", "F"), ("张伟", "M"))


def logged_in(actor: Actor, language: str = "zh-hans") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(actor.staff.user)
    return client


def add_people(merchant, birthday_month: int = 12, **fields: Any) -> list[Member]:
    """李娜 and 王芳 (women) and 张伟, mobiles 1380013800n, birthdays on the 11th-13th."""
    people = []
    for number, (name, gender) in enumerate(PEOPLE, 1):
        people.append(
            Member.objects.create(
                merchant=merchant,
                name=name,
                gender=gender,
                card_no=f"C{number:04d}",
                mobile=f"1380013800{number}",
                referral_code=f"REF{number}",
                birthday=dt.date(1990, birthday_month, 10 + number),
                joined_at=dt.datetime(2025, 1, number, tzinfo=dt.UTC),
                **fields,
            )
        )
    return people


def women_segment(merchant) -> Segment:
    return Segment.objects.create(merchant=merchant, name="女性会员", filter=WOMEN)


def body(**changes: Any) -> dict[str, Any]:
    """A one-off inbox campaign to the women, without holdout unless asked."""
    data: dict[str, Any] = {
        "name": "会员日",
        "kind": "once",
        "audience": {"filter": WOMEN},
        "actions": [{"type": "message", "channel": "inbox", "template": "{name}，会员日见"}],
        "holdout_percent": 0,
    }
    data.update(changes)
    return data


def create(actor: Actor, **changes: Any) -> Campaign:
    return services.create_campaign(actor, body(**changes))


def launched(actor: Actor, campaign: Campaign, capture) -> Campaign:
    """Launch through the service and run the jobs queued after commit (`jobs_now` must be on:
    each chunk is contacted, each message sent, in this process)."""
    with capture(execute=True):
        services.launch(actor, campaign)
    campaign.refresh_from_db()
    return campaign
