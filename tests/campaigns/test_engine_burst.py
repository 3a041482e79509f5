"""Caps hold under a burst (PostgreSQL only): 50 triggers for one member in the same second,
from 10 OS processes at once, send at most the cap; each trigger gets its target."""

from __future__ import annotations

import datetime as dt
import multiprocessing

import pytest
from django.db import connection, connections

from patron.campaigns import delivery, services
from patron.campaigns.models import Campaign, Message, Target
from patron.tenancy.actor import Actor
from patron.tenancy.services import create_merchant
from tests.campaigns.conftest import make_members, spec

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
PROCESSES, TRIGGERS, CAP = 10, 50, 2
NOON = dt.datetime(2026, 12, 6, 4, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row-lock concurrency needs PostgreSQL (run with PATRON_TEST_POSTGRES)")


def trigger_many(args: tuple[int, int, int]) -> int:
    """Runs in a child process: its own connection, its share of the triggers."""
    campaign_id, member_id, worker = args
    connections.close_all()
    campaign = Campaign.objects.get(pk=campaign_id)
    reached = 0
    for n in range(worker, TRIGGERS, PROCESSES):
        reached += delivery.contact(campaign, [member_id], occurrence=f"sale:{n}", now=NOON)
    connections.close_all()
    return reached


def test_fifty_triggers_at_once_send_at_most_the_cap():
    merchant = create_merchant("burst", "Burst Co")
    body = spec(
        kind="trigger", trigger={"event": "sale.completed"}, caps={"per_member_per_7d": CAP}
    )
    campaign = services.create_campaign(Actor.system(merchant), body)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.RUNNING)
    member = make_members(merchant, 1)[0]
    connections.close_all()
    with multiprocessing.get_context("fork").Pool(PROCESSES) as pool:
        reached = sum(
            pool.map(trigger_many, [(campaign.pk, member.pk, w) for w in range(PROCESSES)])
        )
    assert reached == CAP
    assert Message.objects.filter(member=member).count() == CAP
    targets = Target.objects.filter(campaign=campaign)
    assert targets.count() == TRIGGERS
    assert targets.filter(outcome="suppressed", reason="cap").count() == TRIGGERS - CAP
