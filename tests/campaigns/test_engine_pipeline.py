"""The contact pipeline: holdout, consent, caps, quiet hours, budget and stock, idempotency."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from patron.campaigns import delivery, send_tasks
from patron.campaigns.models import Campaign, Message, Target
from patron.promotions.models import Coupon, CouponTemplate

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOON = dt.datetime(2026, 12, 6, 12, 0, tzinfo=SHANGHAI)


def test_holdout_share_is_within_a_point_on_10000_members_and_reproducible():
    for campaign_id, percent in ((1, 10), (2, 10), (3, 25), (4, 50)):
        scores = [delivery.holdout_score(campaign_id, m) for m in range(1, 10_001)]
        share = sum(score < percent for score in scores) / 100
        assert abs(share - percent) <= 1, (campaign_id, share)
        assert scores == [delivery.holdout_score(campaign_id, m) for m in range(1, 10_001)]
    # Another campaign draws another holdout.
    first = {m for m in range(1, 10_001) if delivery.holdout_score(1, m) < 10}
    second = {m for m in range(1, 10_001) if delivery.holdout_score(2, m) < 10}
    assert first != second


def test_holdout_targets_are_recorded_and_never_contacted(running, members_of):
    campaign = running(holdout_percent=30)
    members = members_of(200)
    delivery.contact(campaign, [m.pk for m in members], occurrence="x", now=NOON)
    holdout = set(
        Target.objects.filter(campaign=campaign, group="holdout").values_list(
            "member_id", flat=True
        )
    )
    assert holdout == {m.pk for m in members if delivery.in_holdout(campaign, m.pk)}
    assert 30 <= len(holdout) <= 90
    messaged = set(Message.objects.filter(campaign=campaign).values_list("member_id", flat=True))
    assert messaged == {m.pk for m in members} - holdout
    assert not messaged & holdout


def test_contact_twice_gives_one_target_and_one_message(running, members_of):
    campaign = running()
    member = members_of(1)[0]
    assert delivery.contact(campaign, [member.pk], occurrence="sale:1", now=NOON) == 1
    assert delivery.contact(campaign, [member.pk], occurrence="sale:1", now=NOON) == 0
    assert Target.objects.filter(campaign=campaign).count() == 1
    assert Message.objects.filter(campaign=campaign).count() == 1
    message = Message.objects.get(campaign=campaign)
    assert message.body == "会员0，新年快乐"
    assert message.status == Message.Status.SENT  # the inbox is delivered with the contact
    # Another occurrence is another contact.
    assert delivery.contact(campaign, [member.pk], occurrence="sale:2", now=NOON) == 1


def test_sms_without_consent_is_suppressed(running, members_of):
    campaign = running(
        actions=[{"type": "message", "channel": "sms", "template": "{name}：本周会员日"}]
    )
    without = members_of(3)
    with_consent = members_of(2, start=100, consent_sms=True)
    delivery.contact(campaign, [m.pk for m in without + with_consent], occurrence="o", now=NOON)
    suppressed = Target.objects.filter(campaign=campaign, outcome="suppressed")
    assert sorted(suppressed.values_list("reason", flat=True)) == ["consent"] * 3
    assert set(Message.objects.filter(campaign=campaign).values_list("member_id", flat=True)) == {
        m.pk for m in with_consent
    }


def test_caps_count_messages_of_every_campaign(running, members_of):
    capped = {"per_member_per_7d": 2}
    first, second = running(caps=capped), running(caps=capped, name="第二个")
    member = members_of(1)[0]
    delivery.contact(first, [member.pk], occurrence="a", now=NOON)
    delivery.contact(second, [member.pk], occurrence="a", now=NOON)
    delivery.contact(second, [member.pk], occurrence="b", now=NOON)
    assert Message.objects.filter(member=member).count() == 2
    assert Target.objects.get(campaign=second, occurrence="b").reason == "cap"
    # A week later the member may be reached again.
    delivery.contact(first, [member.pk], occurrence="c", now=NOON + dt.timedelta(days=7, hours=1))
    assert Message.objects.filter(member=member).count() == 3


@pytest.mark.parametrize(
    ("local", "held_until"),
    [
        (dt.datetime(2026, 12, 6, 22, 30), dt.datetime(2026, 12, 7, 9, 0)),  # before midnight
        (dt.datetime(2026, 12, 7, 2, 15), dt.datetime(2026, 12, 7, 9, 0)),  # after midnight
        (dt.datetime(2026, 12, 7, 9, 0), None),  # the end itself is not quiet
        (dt.datetime(2026, 12, 6, 20, 59), None),
    ],
)
def test_quiet_hours_across_midnight_in_shanghai(running, members_of, local, held_until):
    campaign = running(quiet_hours=["21:00", "09:00"])
    member = members_of(1)[0]
    now = local.replace(tzinfo=SHANGHAI)
    delivery.contact(campaign, [member.pk], occurrence="q", now=now)
    message = Message.objects.get(campaign=campaign)
    target = Target.objects.get(campaign=campaign)
    if held_until is None:
        assert (message.status, target.outcome) == (
            "sent",
            "reached",
        )  # the inbox: delivered with the contact
        return
    assert (message.status, target.outcome, target.reason) == ("held", "held", "quiet_hours")
    assert message.hold_until == held_until.replace(tzinfo=SHANGHAI)
    # Not yet due: nothing released; at the end of quiet hours it is queued and sent.
    assert delivery.release_held(now + dt.timedelta(minutes=1)) == []
    released = delivery.release_held(held_until.replace(tzinfo=SHANGHAI))
    assert released == [message.pk]
    send_tasks.send_all(released)
    message.refresh_from_db()
    target.refresh_from_db()
    assert (message.status, target.outcome) == ("sent", "reached")


def test_held_messages_count_as_quiet_hours_in_the_report_until_sent(running, members_of):
    from patron.campaigns.report import report

    campaign = running(quiet_hours=["21:00", "09:00"])
    members = members_of(4)
    night = dt.datetime(2026, 12, 6, 23, 0, tzinfo=SHANGHAI)
    delivery.contact(campaign, [m.pk for m in members], occurrence="n", now=night)
    figures = report(campaign)
    assert (figures["reached"], figures["suppressed"]["quiet_hours"]) == (0, 4)
    delivery.release_held(night + dt.timedelta(hours=11))
    figures = report(campaign)
    assert (figures["reached"], figures["suppressed"]["quiet_hours"]) == (4, 0)
    assert figures["targeted"] == 4


def coupon_template(merchant, *, stock=None, value=500) -> CouponTemplate:
    return CouponTemplate.objects.create(
        merchant=merchant,
        code="NEW5",
        name="五元券",
        benefit={"type": "fixed", "value": value},
        valid_days=30,
        stock=stock,
    )


def test_coupon_stock_is_never_oversold(running, members_of, merchant):
    template = coupon_template(merchant, stock=3)
    campaign = running(actions=[{"type": "coupon", "template": "NEW5"}])
    members = members_of(5)
    delivery.contact(campaign, [m.pk for m in members], occurrence="c", now=NOON)
    template.refresh_from_db()
    assert template.issued_count == 3
    assert Coupon.objects.filter(template=template).count() == 3
    outcomes = sorted(Target.objects.filter(campaign=campaign).values_list("outcome", "reason"))
    assert outcomes == [("reached", "")] * 3 + [("suppressed", "budget")] * 2
    campaign.refresh_from_db()
    assert campaign.spent_fen == 1500  # the two refused coupons gave their cost back


def test_budget_is_never_exceeded(running, members_of, merchant):
    coupon_template(merchant, value=500)
    campaign = running(
        actions=[
            {"type": "coupon", "template": "NEW5"},
            {"type": "message", "channel": "inbox", "template": "券码 {coupon}"},
        ],
        budget_fen=1200,
    )
    members = members_of(4)
    delivery.contact(campaign, [m.pk for m in members], occurrence="b", now=NOON)
    campaign.refresh_from_db()
    assert campaign.spent_fen == 1000
    assert Coupon.objects.filter(member__in=members).count() == 2
    assert Target.objects.filter(campaign=campaign, reason="budget").count() == 2
    bodies = list(Message.objects.filter(campaign=campaign).values_list("body", flat=True))
    codes = set(Coupon.objects.values_list("code", flat=True))
    assert len(bodies) == 2 and {b.removeprefix("券码 ") for b in bodies} == codes


def test_points_tier_and_task_actions(running, members_of, merchant, stores, system):
    from patron.insight.models import FollowUpTask
    from patron.ledger.services import quick_balances
    from patron.promotions.models import Tier
    from patron.tenancy.models import Role
    from tests.conftest import staff_actor

    manager = staff_actor(system, "manager1", Role.STORE_MANAGER, stores["S1"])
    Tier.objects.create(merchant=merchant, code="gold", name="金卡", rank=2)
    campaign = running(
        actions=[
            {"type": "points", "points": 100},
            {"type": "tier", "tier": "gold"},
            {"type": "task", "assignee_role": "store_manager"},
        ]
    )
    member = members_of(1, store=stores["S1"])[0]
    delivery.contact(campaign, [member.pk], occurrence="p", now=NOON)
    delivery.contact(campaign, [member.pk], occurrence="p", now=NOON)  # once only
    assert quick_balances(member)["points"] == 100
    member.refresh_from_db()
    assert member.tier.code == "gold"
    task = FollowUpTask.objects.get(event__member=member)
    assert task.assignee == manager.user


def test_paused_campaign_contacts_nobody(running, members_of):
    campaign = running()
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.PAUSED)
    member = members_of(1)[0]
    assert delivery.contact(campaign, [member.pk], occurrence="x", now=NOON) == 0
    assert not Target.objects.exists()
