"""Triggered journeys through the outbox: each trigger option, the audience restriction,
contacts that wait (thanks after a sale), replayed events, complaints, the presets."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from patron.campaigns import journeys, schedules
from patron.campaigns.models import Campaign, JourneyStep
from patron.events.dispatch import dispatch_pending
from patron.events.services import emit
from patron.insight.models import MemberEvent
from patron.ledger import services as ledger
from patron.promotions.models import Tier
from tests.campaigns.journeys_support import Recorder, install, journey, make_member

# Row locks (skip_locked) and JSON lookups behave differently on PostgreSQL.
pytestmark = pytest.mark.postgres


@pytest.fixture
def recorder(monkeypatch) -> Recorder:
    return install(monkeypatch)


def test_tier_up_and_down(merchant, recorder):
    member = make_member(merchant, 1)
    up = journey(merchant, {"event": "tier.changed", "direction": "up"})
    down = journey(merchant, {"event": "tier.changed", "direction": "down"})
    anyway = journey(merchant, {"event": "tier.changed"})
    Tier.objects.create(merchant=merchant, code="gold", name="金卡", rank=2)
    Tier.objects.create(merchant=merchant, code="silver", name="银卡", rank=1)
    raised = emit(
        merchant.pk,
        "tier.changed",
        {"from": "silver", "to": "gold", "direction": "up"},
        member_id=member.pk,
    )
    dispatch_pending()
    assert recorder.reached(up) == [member.pk] and recorder.reached(down) == []
    contact = next(c for c in recorder.contacts if c["campaign"] == up.pk)
    assert contact["occurrence"] == str(raised.uid)
    assert contact["context"] == {member.pk: {"tier": "金卡"}}
    # A payload without a direction: the tiers' ranks say it.
    emit(merchant.pk, "tier.changed", {"from": "gold", "to": "silver"}, member_id=member.pk)
    dispatch_pending()
    assert recorder.reached(down) == [member.pk] and recorder.reached(up) == [member.pk]
    assert recorder.reached(anyway) == [member.pk, member.pk]


def test_win_back_when_a_member_becomes_dormant(merchant, recorder):
    member = make_member(merchant, 1)
    win_back = journey(merchant, {"event": "lifecycle.changed", "to": "dormant"})
    emit(merchant.pk, "lifecycle.changed", {"from": "active", "to": "at_risk"}, member_id=member.pk)
    dispatch_pending()
    assert recorder.reached(win_back) == []
    emit(
        merchant.pk, "lifecycle.changed", {"from": "at_risk", "to": "dormant"}, member_id=member.pk
    )
    dispatch_pending()
    assert recorder.reached(win_back) == [member.pk]


def test_a_journey_answers_only_what_happens_after_its_launch(merchant, recorder):
    member = make_member(merchant, 1)
    before = timezone.now() - dt.timedelta(minutes=1)
    emit(
        merchant.pk,
        "lifecycle.changed",
        {"from": "inert", "to": "dormant"},
        member_id=member.pk,
        at=before,
    )  # still pending in the outbox when the journey starts
    win_back = journey(merchant, {"event": "lifecycle.changed", "to": "dormant"})
    Campaign.objects.filter(pk=win_back.pk).update(launched_at=timezone.now())
    dispatch_pending()
    assert recorder.reached(win_back) == []
    emit(merchant.pk, "lifecycle.changed", {"from": "inert", "to": "dormant"}, member_id=member.pk)
    dispatch_pending()
    assert recorder.reached(win_back) == [member.pk]


def test_points_expiring_within_days_once_per_expiry_date(merchant, recorder):
    member = make_member(merchant, 1)
    reminder = journey(merchant, {"event": "points.expiring", "days": 7})
    now = timezone.now()
    far = (now + dt.timedelta(days=30)).isoformat()
    near = (now + dt.timedelta(days=5)).isoformat()
    emit(merchant.pk, "points.expiring", {"points": 300, "expires_at": far}, member_id=member.pk)
    dispatch_pending()
    assert recorder.reached(reminder) == []
    for _ in range(2):  # the ledger reminds twice of the same lot: one contact
        emit(
            merchant.pk, "points.expiring", {"points": 120, "expires_at": near}, member_id=member.pk
        )
    dispatch_pending()
    assert len({c["occurrence"] for c in recorder.contacts}) == 1
    contact = recorder.contacts[0]
    assert contact["occurrence"].startswith("points_expiring:")
    assert contact["context"][member.pk]["points"] == 120
    local = (now + dt.timedelta(days=5)).astimezone(ZoneInfo("Asia/Shanghai")).date()
    assert contact["context"][member.pk]["expires_at"] == local.isoformat()


def test_stored_value_low_after_a_top_up_or_a_sale(merchant, system, recorder):
    member = make_member(merchant, 1)
    rich = make_member(merchant, 2)
    low = journey(merchant, {"event": "topup.completed", "stored_value_below": 10000})
    after_sale = journey(merchant, {"event": "sale.completed", "stored_value_below": 10000})
    ledger.top_up(system, member, 5000, key="t1")
    ledger.top_up(system, rich, 50000, key="t2")
    topped = emit(merchant.pk, "topup.completed", {"amount": 5000}, member_id=member.pk)
    emit(merchant.pk, "topup.completed", {"amount": 50000}, member_id=rich.pk)
    dispatch_pending()
    assert recorder.reached(low) == [member.pk]
    contact = recorder.contacts[0]
    assert contact["occurrence"] == f"stored_value_low:{topped.uid}"
    assert contact["context"][member.pk] == {"stored_value": "¥50.00"}
    # Sales that leave it low: one reminder per top-up cycle, not one per sale.
    for _ in range(2):
        emit(merchant.pk, "sale.completed", {"total_fen": 100}, member_id=member.pk)
    emit(merchant.pk, "sale.completed", {"total_fen": 100}, member_id=rich.pk)
    dispatch_pending()
    assert recorder.reached(after_sale) == [member.pk]


def test_thanks_waits_its_delay_and_is_sent_once(merchant, recorder):
    member = make_member(merchant, 1)
    thanks = journey(merchant, {"event": "sale.completed", "delay_hours": 2})
    now_thanks = journey(merchant, {"event": "sale.completed"})
    sale = emit(merchant.pk, "sale.completed", {"points_earned": 88}, member_id=member.pk)
    dispatch_pending()
    journeys.on_event(sale)  # a replayed event schedules nothing twice
    assert recorder.reached(now_thanks) == [member.pk]
    assert recorder.reached(thanks) == []
    step = JourneyStep.objects.get(campaign=thanks)
    assert step.due_at == sale.created_at + dt.timedelta(hours=2)
    assert journeys.send_due_steps(sale.created_at + dt.timedelta(hours=1)) == 0
    later = sale.created_at + dt.timedelta(hours=2, minutes=1)
    assert journeys.send_due_steps(later) == 1
    assert journeys.send_due_steps(later) == 0
    assert recorder.reached(thanks) == [member.pk]
    contact = next(c for c in recorder.contacts if c["campaign"] == thanks.pk)
    assert contact["occurrence"] == str(sale.uid)
    assert contact["context"] == {member.pk: {"points": 88}}


def test_a_paused_journey_keeps_its_steps_and_ignores_events(merchant, recorder):
    member = make_member(merchant, 1)
    thanks = journey(merchant, {"event": "sale.completed", "delay_hours": 1})
    sale = emit(merchant.pk, "sale.completed", {}, member_id=member.pk)
    dispatch_pending()
    Campaign.objects.filter(pk=thanks.pk).update(status=Campaign.Status.PAUSED)
    emit(merchant.pk, "sale.completed", {}, member_id=member.pk)
    dispatch_pending()
    later = sale.created_at + dt.timedelta(hours=3)
    assert journeys.send_due_steps(later) == 0
    assert JourneyStep.objects.filter(campaign=thanks, done_at__isnull=True).count() == 1
    Campaign.objects.filter(pk=thanks.pk).update(status=Campaign.Status.RUNNING)
    assert journeys.send_due_steps(later) == 1
    assert recorder.reached(thanks) == [member.pk]


def test_the_audience_restricts_a_trigger(merchant, recorder):
    vip = make_member(merchant, 1)
    other = make_member(merchant, 2)
    vip_only = journey(merchant, {"event": "member.joined"}, audience={"filter": {"ids": [vip.pk]}})
    for who in (vip, other):
        emit(merchant.pk, "member.joined", {}, member_id=who.pk)
    dispatch_pending()
    assert recorder.reached(vip_only) == [vip.pk]


def test_other_merchants_drafts_and_message_sent_start_nothing(merchant, recorder):
    from patron.tenancy.services import create_merchant

    other = create_merchant("other", "别家")
    member = make_member(merchant, 1)
    journey(other, {"event": "member.joined"})
    journey(merchant, {"event": "member.joined"}, status=Campaign.Status.DRAFT)
    journey(merchant, {"event": "message.sent"})
    emit(merchant.pk, "member.joined", {}, member_id=member.pk)
    emit(merchant.pk, "message.sent", {}, member_id=member.pk)
    dispatch_pending()
    assert recorder.contacts == []


def test_complaints_are_followed_up_once(merchant, recorder):
    member = make_member(merchant, 1)
    follow_up = journey(
        merchant, {"event": "complaint"}, launched_at=timezone.now() - dt.timedelta(hours=1)
    )
    old = MemberEvent.objects.create(
        merchant=merchant, member=member, kind="complaint", body="旧的", occurred_at=timezone.now()
    )
    MemberEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(hours=3))
    MemberEvent.objects.create(
        merchant=merchant, member=member, kind="review", rating=5, occurred_at=timezone.now()
    )
    fresh = MemberEvent.objects.create(
        merchant=merchant,
        member=member,
        kind="complaint",
        body="咖啡凉了",
        occurred_at=timezone.now(),
    )
    assert journeys.follow_up_complaints(merchant) == 1
    assert journeys.follow_up_complaints(merchant) == 0
    assert recorder.reached(follow_up) == [member.pk]
    assert recorder.contacts[0]["occurrence"] == f"complaint:{fresh.pk}"


def test_presets_name_the_built_in_templates():
    presets = journeys.journey_presets()
    codes = {a["template"] for p in presets for a in p["actions"] if a["type"] == "message"}
    assert codes == {
        "birthday",
        "thanks",
        "win_back",
        "points_expiring",
        "stored_value_low",
        "tier_up",
        "complaint_follow_up",
        "promotion",
        "information",
    }
    for preset in presets:
        assert preset["kind"] in Campaign.Kind.values and preset["name"]
        if preset["kind"] == "trigger":
            assert preset["trigger"]["event"] in journeys.TRIGGERS
            assert schedules.check_trigger(preset["trigger"]) == []
