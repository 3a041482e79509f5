"""Member events and follow-ups (F-32): recording each kind, the complaint's task (assignee
and due date in the merchant's zone), closing and handing over by role, and the events that
refunds and referrals record by themselves."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from patron.core.errors import NotFound, PermissionDenied, ValidationFailed
from patron.insight import feedback
from patron.insight.feedback import EventInput
from patron.insight.models import FollowUpTask, MemberEvent
from patron.members.selectors import member_for
from patron.members.services import register_member
from patron.program.services import apply_program
from patron.sales import services as sales
from patron.tenancy.models import AuditEntry, Role
from tests.conftest import staff_actor

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def member(system, stores):
    return register_member(system, {"mobile": "13800138000", "name": "张三", "store": "S1"})


@pytest.fixture
def manager(system, stores):
    return staff_actor(system, "manager1", Role.STORE_MANAGER, stores["S1"])


def test_each_kind_is_recorded_with_its_store_and_time(system, member):
    for kind in ("cancellation", "return", "suggestion", "referral"):
        body = "换个时间" if kind == "suggestion" else ""
        event = feedback.record_event(system, member, EventInput(kind=kind, body=body))
        assert (event.kind, event.store.code, event.rating) == (kind, "S1", None)
        assert not hasattr(event, "task") or event.kind != "complaint"
    review = feedback.record_event(system, member, EventInput(kind="review", rating=4))
    assert review.rating == 4
    assert MemberEvent.objects.filter(member=member).count() == 5
    assert FollowUpTask.objects.count() == 0  # only complaints open one
    audited = AuditEntry.objects.filter(object_type="memberevent", action="create")
    assert audited.count() == 5


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (EventInput(kind="party"), "kind"),
        (EventInput(kind="review"), "rating"),
        (EventInput(kind="review", rating=6), "rating"),
        (EventInput(kind="suggestion", body="x", rating=3), "rating"),
        (EventInput(kind="complaint", body="  "), "body"),
        (EventInput(kind="cancellation", body="x" * 2001), "body"),
        (EventInput(kind="return", store="S9"), "store"),
        (EventInput(kind="return", sale_id=999), "sale_id"),
        (EventInput(kind="return", occurred_at="yesterday"), "occurred_at"),
        (EventInput(kind="complaint", body="吵", due_in_days=-1), "due_in_days"),
        (EventInput(kind="complaint", body="吵", assignee=123456), "assignee"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(system, member, data, field):
    with pytest.raises(ValidationFailed) as raised:
        feedback.record_event(system, member, data)
    assert field in [e.field for e in raised.value.errors]
    assert MemberEvent.objects.count() == FollowUpTask.objects.count() == 0


def test_an_event_cannot_happen_in_the_future(system, member):
    later = timezone.now() + dt.timedelta(hours=1)
    with pytest.raises(ValidationFailed):
        feedback.record_event(system, member, EventInput(kind="return", occurred_at=later))
    earlier = timezone.now() - dt.timedelta(days=3)
    event = feedback.record_event(system, member, EventInput(kind="return", occurred_at=earlier))
    assert event.occurred_at == earlier


def test_a_complaint_opens_one_task_for_the_stores_manager_due_in_two_local_days(
    system, member, manager, cashier, monkeypatch
):
    # 23:30 UTC on 1 March is already 2 March in Shanghai: due on 4 March, not 3 March.
    moment = dt.datetime(2027, 3, 1, 23, 30, tzinfo=dt.UTC)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    event = feedback.record_event(cashier, member, EventInput(kind="complaint", body="菜凉了"))
    task = FollowUpTask.objects.get()
    assert task.event == event and task.store.code == "S1"
    assert task.assignee == manager.staff.user
    assert task.due_on == dt.date(2027, 3, 4)
    assert task.status == "open"
    assert AuditEntry.objects.filter(object_type="followuptask", action="create").count() == 1


def test_without_a_store_manager_hq_follows_up_and_a_chosen_assignee_wins(
    system, member, hq, cashier
):
    event = feedback.record_event(system, member, EventInput(kind="complaint", body="吵"))
    assert event.task.assignee == hq.staff.user
    chosen = feedback.record_event(
        system,
        member,
        EventInput(kind="complaint", body="慢", assignee=cashier.staff.user.pk, due_in_days=5),
    )
    assert chosen.task.assignee == cashier.staff.user
    assert chosen.task.due_on == feedback.local_today(system) + dt.timedelta(days=5)


def test_the_due_date_follows_the_merchants_zone(system, member, hq, monkeypatch):
    system.merchant.timezone = "America/New_York"
    system.merchant.save()
    moment = dt.datetime(2027, 3, 2, 3, 0, tzinfo=dt.UTC)  # 1 March, 22:00 in New York
    monkeypatch.setattr(timezone, "now", lambda: moment)
    event = feedback.record_event(system, member, EventInput(kind="complaint", body="吵"))
    assert event.task.due_on == dt.date(2027, 3, 3)
    assert moment.astimezone(zoneinfo.ZoneInfo("America/New_York")).day == 1


def test_closing_needs_an_outcome_and_the_right_person(system, member, manager, cashier, hq):
    event = feedback.record_event(cashier, member, EventInput(kind="complaint", body="菜凉了"))
    task = event.task
    with pytest.raises(PermissionDenied):  # the cashier recorded it but it is not theirs
        feedback.close_task(cashier, task, "打过电话")
    with pytest.raises(ValidationFailed) as raised:
        feedback.close_task(manager, task, "   ")
    assert raised.value.errors[0].field == "outcome"
    closed = feedback.close_task(manager, task, "致电道歉，送了一张菜券")
    assert (closed.status, closed.closed_by) == ("done", manager.staff.user)
    assert closed.outcome == "致电道歉，送了一张菜券"
    with pytest.raises(ValidationFailed):  # closed once
        feedback.close_task(hq, task, "again")
    assert AuditEntry.objects.filter(object_type="followuptask", action="update").count() == 1


def test_an_assignee_closes_their_own_and_another_stores_manager_cannot(
    system, stores, member, manager, cashier
):
    other_manager = staff_actor(system, "manager2", Role.STORE_MANAGER, stores["S2"])
    event = feedback.record_event(
        system,
        member,
        EventInput(kind="complaint", body="吵", assignee=cashier.staff.user.pk),
    )
    with pytest.raises(PermissionDenied):
        feedback.close_task(other_manager, event.task, "no")
    with pytest.raises(NotFound):  # nor does it show on their board
        feedback.task_for(other_manager, event.task.pk)
    assert feedback.close_task(cashier, event.task, "回访了").status == "done"


def test_managers_hand_over_and_cashiers_cannot(system, member, manager, cashier, hq):
    event = feedback.record_event(system, member, EventInput(kind="complaint", body="吵"))
    with pytest.raises(PermissionDenied):
        feedback.reassign_task(cashier, event.task, cashier.staff.user.pk)
    task = feedback.reassign_task(manager, event.task, cashier.staff.user.pk)
    assert FollowUpTask.objects.get(pk=task.pk).assignee == cashier.staff.user
    with pytest.raises(ValidationFailed):  # nobody of this merchant
        feedback.reassign_task(hq, task, 987654)


def test_a_cashier_records_for_their_stores_members_only(system, stores, cashier):
    theirs = register_member(system, {"mobile": "13800138001", "store": "S1"})
    other = register_member(system, {"mobile": "13800138002", "store": "S2"})
    event = feedback.record_event(cashier, theirs, EventInput(kind="review", rating=5))
    assert event.recorded_by == cashier.staff.user
    with pytest.raises(NotFound):  # the member API's scoping: another store's member
        member_for(cashier, other.pk)
    with pytest.raises(ValidationFailed):
        feedback.record_event(cashier, theirs, EventInput(kind="review", rating=5, store="S2"))
    assert list(feedback.events_for(cashier)) == [event]


BASKET = [sales.LineInput(sku="TEA", name="龙井", category="drinks", quantity=2, unit_price=3000)]


def test_a_refund_records_one_return_with_its_sale(system, member):
    apply_program(system, {"categories": ["drinks"]})
    sale = sales.commit_sale(
        system, sales.SaleRequest(lines=BASKET, member=member.pk, store="S1"), key="s1"
    )
    ask = sales.RefundAsk(all=True, reason="茶叶受潮")
    refund = sales.refund_sale(system, sale, ask, key="r1")
    events = MemberEvent.objects.filter(member=member, kind="return")
    assert [(e.sale_id, e.body, e.store.code) for e in events] == [(sale.pk, "茶叶受潮", "S1")]
    sales.refund_sale(system, sale, ask, key="r1")  # replayed: nothing more
    feedback.on_activity(system, member, "refund", {"sale": sale, "refund": refund})
    assert events.count() == 1


def test_a_referral_is_recorded_once_on_the_referrers_timeline(system, member):
    friend = register_member(
        system, {"mobile": "13900139000", "name": "李四", "referrer_code": member.referral_code}
    )
    events = MemberEvent.objects.filter(kind="referral")
    assert [(e.member_id, e.source) for e in events] == [(member.pk, f"referral:{friend.pk}")]
    assert "李四" in events[0].body
    feedback.on_registration(system, friend, {})  # replayed
    assert events.count() == 1
    assert not MemberEvent.objects.filter(member=friend).exists()
