"""Every API.md §9 event the lower apps cause is written once, with its payload, in the
transaction of its change (docs/events.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from patron.cards import services as cards
from patron.events.models import Event
from patron.events.services import emit
from patron.insight.models import MemberInsight
from patron.insight.refresh import refresh
from patron.ledger import services as ledger
from patron.ledger.models import PointsLot
from patron.members.services import register_member
from patron.promotions import services as promotions
from patron.promotions.models import Tier
from patron.promotions.services import TierMove, move_members
from patron.sales import services as sales
from patron.sales.services import LineInput, RefundAsk, SaleRequest
from patron.wallet import services as wallet
from patron.wallet.reminders import announce_expiring
from tests.events.conftest import TEA, events_of, one_event

pytestmark = [pytest.mark.postgres]


def test_member_joined_once_with_its_card_and_store(member):
    event = one_event("member.joined")
    assert event.member_id == member.pk
    assert event.data["card_no"] == member.card_no
    assert event.data["store"] == "S1"
    assert event.data["member_id"] == member.pk
    assert "mobile" not in event.data and "name" not in event.data  # no personal data


def test_a_failed_registration_writes_no_event(system, member):
    with pytest.raises(Exception):  # noqa: B017 - the duplicate mobile's Conflict
        register_member(system, {"mobile": "13800138000", "store": "S1"})
    assert len(events_of("member.joined")) == 1


def test_a_rolled_back_change_writes_no_event(system, member):
    before = Event.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        wallet.top_up(system, member, 5000, key="t-rolled")
        assert events_of("topup.completed")  # written inside the transaction...
        raise RuntimeError("the caller fails after the top-up")
    assert Event.objects.count() == before  # ...and gone with it


def test_unknown_types_are_refused(merchant):
    with pytest.raises(ValueError):
        emit(merchant.pk, "sale.done", {})


def test_top_up_once_even_when_replayed(system, member):
    wallet.top_up(system, member, 5000, key="t-1", payment_method="alipay")
    wallet.top_up(system, member, 5000, key="t-1", payment_method="alipay")
    event = one_event("topup.completed")
    assert (event.member_id, event.data["amount_fen"]) == (member.pk, 5000)
    assert event.data["payment_method"] == "alipay"
    assert event.data["card_no"] == member.card_no


def test_sale_completed_and_refunded(system, cashier, member):
    ledger.top_up(system, member, 10000, key="fund")
    sale = sales.commit_sale(
        cashier,
        SaleRequest(lines=[LineInput(**TEA)], member=member.pk, store="S1", stored_value=5000),
        key="s-1",
    )
    again = sales.commit_sale(
        cashier,
        SaleRequest(lines=[LineInput(**TEA)], member=member.pk, store="S1", stored_value=5000),
        key="s-1",
    )
    assert again.pk == sale.pk
    event = one_event("sale.completed")
    assert event.member_id == member.pk
    assert event.data == {
        "sale_id": sale.pk,
        "member_id": member.pk,
        "card_no": member.card_no,
        "store": "S1",
        "channel": sale.channel,
        "total_fen": 20000,
        "paid_fen": 20000,
        "stored_value_fen": 5000,
        "points_redeemed": 0,
        "points_earned": sale.points_earned,
        "at": event.data["at"],
    }
    sales.refund_sale(cashier, sale, RefundAsk(all=True), key="r-1")
    refunded = one_event("sale.refunded")
    assert refunded.data["sale_id"] == sale.pk and refunded.data["amount_fen"] == 20000
    assert refunded.data["full"] is True and refunded.member_id == member.pk
    assert refunded.id > event.id


def test_a_walk_in_sale_has_no_member(cashier, program):
    sales.commit_sale(cashier, SaleRequest(lines=[LineInput(**TEA)], store="S1"))
    event = one_event("sale.completed")
    assert event.member_id is None and event.data["card_no"] is None


def test_coupon_issued_and_redeemed(system, hq, cashier, member):
    coupon = promotions.issue_coupon(hq, member, "cash20", key="c-1")
    promotions.issue_coupon(hq, member, "cash20", key="c-1")  # replayed: nothing new
    issued = one_event("coupon.issued")
    assert issued.data["coupon_id"] == coupon.pk and issued.data["template"] == "cash20"
    sale = sales.commit_sale(
        cashier,
        SaleRequest(lines=[LineInput(**TEA)], member=member.pk, store="S1", codes=[coupon.code]),
    )
    redeemed = one_event("coupon.redeemed")
    assert (redeemed.data["coupon_id"], redeemed.data["sale_id"]) == (coupon.pk, sale.pk)
    assert redeemed.data["discount_fen"] == 2000
    assert redeemed.member_id == member.pk


def test_tier_changed_up_and_down_by_hand(hq, member):
    promotions.set_member_tier(hq, member, "gold", reason="VIP")
    promotions.set_member_tier(hq, member, "gold")  # already gold: nothing changes
    promotions.set_member_tier(hq, member, "silver")
    up, down = events_of("tier.changed")
    assert (up.data["from"], up.data["to"], up.data["direction"]) == ("normal", "gold", "up")
    assert (down.data["from"], down.data["to"], down.data["direction"]) == (
        "gold",
        "silver",
        "down",
    )
    assert up.data["reason"] == "manual" and up.member_id == member.pk


def test_tier_changed_for_each_member_of_a_bulk_move(system, program):
    members = [
        register_member(system, {"mobile": f"1390000000{i}", "store": "S1"}) for i in range(3)
    ]
    gold = Tier.objects.get(merchant=system.merchant, code="gold")
    moved = move_members(
        system,
        [TierMove(m.pk, None, gold, "upgrade", {"spend": 1}) for m in members],
    )
    assert moved == 3
    found = events_of("tier.changed")
    assert sorted(e.member_id for e in found) == sorted(m.pk for m in members)
    assert {(e.data["to"], e.data["direction"], e.data["reason"]) for e in found} == {
        ("gold", "up", "upgrade")
    }


def test_card_lost_and_replaced(system, member):
    card = cards.issue_card(system, member, cards.IssueRequest(product="plain"), key="i-1")
    cards.report_lost(system, card.card_no, reason="丢了", key="l-1")
    cards.report_lost(system, card.card_no, key="l-2")  # again: nothing changes
    lost = one_event("card.lost")
    assert (lost.member_id, lost.data["card_no"]) == (member.pk, card.card_no)
    new = cards.replace_card(system, card.card_no, payment_method="cash", key="r-1")
    replaced = one_event("card.replaced")
    assert replaced.data["old_card_no"] == card.card_no
    assert replaced.data["card_no"] == new.card_no
    assert (replaced.data["reason"], replaced.data["fee_fen"]) == ("lost", 1000)


def test_lifecycle_changed_only_for_real_moves(system, member):
    now = dt.datetime.now(dt.UTC)
    # The first nightly run gives everyone their first stage: no event, however many.
    refresh(system.merchant, now)
    first = MemberInsight.objects.get(member=member).lifecycle
    assert first and first != "dormant"
    assert events_of("lifecycle.changed") == []
    # A year on the member has gone dormant: one event, from their stage to dormant.
    refresh(system.merchant, now + dt.timedelta(days=400))
    event = one_event("lifecycle.changed")
    assert (event.data["from"], event.data["to"]) == (first, "dormant")
    assert event.member_id == member.pk
    # Nothing moved since: the next run writes nothing.
    refresh(system.merchant, now + dt.timedelta(days=401))
    assert len(events_of("lifecycle.changed")) == 1


def test_points_expiring_once_per_window(system, member):
    ledger.adjust_points(system, member, 300, reason="opening", key="p-1")
    ledger.adjust_points(system, member, 200, reason="more", key="p-2")
    expires_at = PointsLot.objects.get(member=member, amount=300).expires_at
    assert expires_at is not None
    far = expires_at - dt.timedelta(days=60)
    assert announce_expiring(far) == 0  # beyond the widest window
    month = expires_at - dt.timedelta(days=20)
    assert announce_expiring(month) == 1  # both lots expire together: one announcement
    assert announce_expiring(month + dt.timedelta(hours=1)) == 0  # run again: nothing twice
    week = expires_at - dt.timedelta(days=5)
    assert announce_expiring(week) == 1
    assert announce_expiring(week + dt.timedelta(days=1)) == 0
    thirty, seven = events_of("points.expiring")
    assert (thirty.data["points"], thirty.data["days"]) == (500, 30)
    assert (seven.data["points"], seven.data["days"]) == (500, 7)
    assert seven.member_id == member.pk
    assert dt.datetime.fromisoformat(seven.data["expires_at"]) == expires_at


def test_points_spent_are_not_announced(system, member):
    ledger.adjust_points(system, member, 300, reason="opening", key="p-1")
    lot = PointsLot.objects.get(member=member)
    PointsLot.objects.filter(pk=lot.pk).update(remaining=0)
    assert announce_expiring(lot.expires_at - dt.timedelta(days=3)) == 0
