"""Fixtures of the campaign tests (every part of issue 17 may use them): members made
quickly, a campaign defined and launched, background jobs run at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from patron.campaigns import services
from patron.campaigns.models import Campaign
from patron.members.models import Member

EVERYONE = {"filter": {"all": []}}
JOINED = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)


def make_members(merchant, count: int, start: int = 0, **fields) -> list[Member]:
    """`count` active members (ids in order), created in one statement."""
    rows = [
        Member(
            merchant=merchant,
            name=f"会员{n}",
            card_no=f"C{n:07d}",
            mobile=f"139{n:08d}",
            referral_code=f"R{n:07d}",
            joined_at=JOINED,
            **fields,
        )
        for n in range(start, start + count)
    ]
    return Member.objects.bulk_create(rows)


@pytest.fixture
def members_of(merchant) -> Callable[..., list[Member]]:
    def made(count: int, start: int = 0, **fields) -> list[Member]:
        return make_members(merchant, count, start, **fields)

    return made


def spec(**changes) -> dict:
    """A one-off inbox campaign to every member, without holdout unless asked."""
    body = {
        "name": "春节问候",
        "kind": "once",
        "audience": EVERYONE,
        "actions": [{"type": "message", "channel": "inbox", "template": "{name}，新年快乐"}],
        "holdout_percent": 0,
    }
    body.update(changes)
    return body


@pytest.fixture
def running(system) -> Callable[..., Campaign]:
    """A campaign created and set running (no run started: tests call contact themselves)."""

    def made(**changes) -> Campaign:
        body = spec(kind="trigger", trigger={"event": "sale.completed"}, **changes)
        campaign = services.create_campaign(system, body)
        Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.RUNNING)
        campaign.refresh_from_db()
        return campaign

    return made
