"""The feedback pages: the event list with its filters, the 待回访 board by role, a
follow-up's page closing with an outcome, and the member page's panel recording an event."""

from __future__ import annotations

import datetime as dt

import pytest

from patron.insight import feedback
from patron.insight.feedback import EventInput
from patron.insight.models import FollowUpTask, MemberEvent
from patron.members.services import register_member
from patron.tenancy.models import Role
from tests.conftest import staff_actor
from tests.console.conftest import logged_in

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def member(system, stores):
    return register_member(system, {"mobile": "13800138000", "name": "张三", "store": "S1"})


@pytest.fixture
def manager(system, stores):
    return staff_actor(system, "manager1", Role.STORE_MANAGER, stores["S1"])


@pytest.fixture
def complaint(system, member, manager):
    return feedback.record_event(system, member, EventInput(kind="complaint", body="菜凉了"))


def test_the_event_list_shows_names_and_filters_by_kind(hq, member, complaint, system):
    feedback.record_event(system, member, EventInput(kind="review", rating=4, body="好吃"))
    client = logged_in(hq, "zh-hans")
    page = client.get("/feedback/").content.decode()
    assert "投诉" in page and "评价" in page and "★★★★☆" in page
    assert ">complaint<" not in page and ">review<" not in page
    only = client.get("/feedback/?kind=review").content.decode()
    assert "好吃" in only and "菜凉了" not in only
    backwards = client.get("/feedback/?since=2027-03-02&until=2027-03-01")
    assert backwards.status_code == 200
    assert "菜凉了" in backwards.content.decode()  # a bad filter is reported and ignored


def test_the_board_shows_overdue_tasks_and_the_manager_closes_one(manager, complaint):
    FollowUpTask.objects.update(due_on=dt.date(2020, 1, 1))
    client = logged_in(manager)
    board = client.get("/feedback/tasks/").content.decode()
    assert "data-overdue" in board and "菜凉了" in board
    task = complaint.task
    page = client.get(f"/feedback/tasks/{task.pk}/").content.decode()
    assert 'id="task-close"' in page and 'id="task-reassign"' in page
    refused = client.post(f"/feedback/tasks/{task.pk}/close/", {"outcome": ""})
    assert refused.status_code == 200 and FollowUpTask.objects.get().status == "open"
    done = client.post(f"/feedback/tasks/{task.pk}/close/", {"outcome": "致电道歉"})
    assert done.status_code == 302
    assert FollowUpTask.objects.get().outcome == "致电道歉"


def test_a_cashier_sees_the_stores_tasks_but_cannot_close_or_hand_over(cashier, complaint):
    client = logged_in(cashier)
    assert "菜凉了" in client.get("/feedback/tasks/").content.decode()
    page = client.get(f"/feedback/tasks/{complaint.task.pk}/").content.decode()
    assert 'id="task-close"' not in page and 'id="task-reassign"' not in page
    client.post(f"/feedback/tasks/{complaint.task.pk}/close/", {"outcome": "x"})
    assert FollowUpTask.objects.get().status == "open"
    mine = client.get("/feedback/tasks/?scope=mine").content.decode()
    assert "菜凉了" not in mine


def test_another_stores_cashier_sees_no_task_of_this_store(system, stores, complaint):
    other = staff_actor(system, "cashier2", Role.CASHIER, stores["S2"])
    client = logged_in(other)
    assert "菜凉了" not in client.get("/feedback/tasks/").content.decode()
    assert client.get(f"/feedback/tasks/{complaint.task.pk}/").status_code == 404
    assert "菜凉了" not in client.get("/feedback/").content.decode()


def test_the_member_page_panel_records_an_event(cashier, member, manager):
    client = logged_in(cashier, "zh-hans")
    page = client.get(f"/members/{member.pk}/").content.decode()
    assert 'id="member-events"' in page and "记录事件" in page
    response = client.post(
        f"/feedback/members/{member.pk}/record/", {"kind": "complaint", "body": "等太久"}
    )
    assert response.status_code == 302
    event = MemberEvent.objects.get()
    assert event.recorded_by == cashier.staff.user and event.task.assignee == manager.staff.user
    page = client.get(f"/members/{member.pk}/").content.decode()
    assert "等太久" in page and "待回访" in page


def test_a_review_without_a_rating_shows_the_form_again(cashier, member):
    client = logged_in(cashier)
    response = client.post(f"/feedback/members/{member.pk}/record/", {"kind": "review"})
    assert response.status_code == 200
    assert "rating from 1 to 5" in response.content.decode()
    assert not MemberEvent.objects.exists()
