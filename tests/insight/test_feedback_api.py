"""The events and follow-ups API: 201 with the task a complaint opened, 422 naming the
field, 404 for another merchant's member or task, and closing with an outcome."""

from __future__ import annotations

import pytest

from patron.insight.models import FollowUpTask, MemberEvent
from patron.members.services import register_member
from patron.tenancy.models import Role
from tests.conftest import staff_actor

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def member(system, stores):
    return register_member(system, {"mobile": "13800138000", "name": "张三", "store": "S1"})


@pytest.fixture
def manager(system, stores):
    return staff_actor(system, "manager1", Role.STORE_MANAGER, stores["S1"])


def post_event(api, member_id, body, **headers):
    return api.post(
        f"/api/v1/members/{member_id}/events", body, content_type="application/json", **headers
    )


def test_a_complaint_answers_201_with_its_task(api, member, manager):
    response = post_event(api, member.pk, {"kind": "complaint", "body": "房间有异味"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["store"], body["member_id"]) == ("complaint", "S1", member.pk)
    assert body["task"]["assignee"] == "manager1"
    assert body["task"]["status"] == "open" and body["task"]["overdue"] is False
    review = post_event(api, member.pk, {"kind": "review", "rating": 5, "body": "很好"})
    assert review.status_code == 201 and review.json()["task"] is None
    listed = api.get(f"/api/v1/members/{member.pk}/events").json()
    assert listed["count"] == 2
    assert [e["kind"] for e in listed["items"]] == ["review", "complaint"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "gossip"}, "kind"),
        ({"kind": "review"}, "rating"),
        ({"kind": "review", "rating": 9}, "rating"),
        ({"kind": "review", "rating": "5"}, "rating"),
        ({"kind": "complaint"}, "body"),
        ({"kind": "return", "occurred_at": "2999-01-01T00:00:00+08:00"}, "occurred_at"),
        ({"kind": "return", "occurred_at": "2099-01-01T00:00:00+08:00"}, "occurred_at"),
        ({"kind": "return", "sale_id": 12345}, "sale_id"),
        ({"kind": "return", "store": "NOPE"}, "store"),
    ],
)
def test_bad_input_is_422_with_the_field(api, member, body, field):
    response = post_event(api, member.pk, body)
    assert response.status_code == 422, response.content
    assert field in [e["field"] for e in response.json()["errors"]]
    assert not MemberEvent.objects.exists()


def test_another_merchants_member_and_task_are_404(api, other_api, member, manager):
    assert post_event(other_api, member.pk, {"kind": "return"}).status_code == 404
    assert other_api.get(f"/api/v1/members/{member.pk}/events").status_code == 404
    task_id = post_event(api, member.pk, {"kind": "complaint", "body": "吵"}).json()["task"]["id"]
    close = other_api.post(
        f"/api/v1/tasks/{task_id}/close", {"outcome": "x"}, content_type="application/json"
    )
    assert close.status_code == 404
    assert other_api.get("/api/v1/tasks").json()["count"] == 0
    assert post_event(api, 999999, {"kind": "return"}).status_code == 404


def test_tasks_list_and_close(api, member, manager):
    task_id = post_event(api, member.pk, {"kind": "complaint", "body": "吵"}).json()["task"]["id"]
    assert api.get("/api/v1/tasks?status=open").json()["count"] == 1
    assert api.get("/api/v1/tasks?mine=true").json()["count"] == 0  # an API key is nobody
    url = f"/api/v1/tasks/{task_id}/close"
    empty = api.post(url, {"outcome": " "}, content_type="application/json")
    assert empty.status_code == 422
    assert empty.json()["errors"][0]["field"] == "outcome"
    closed = api.post(url, {"outcome": "已致电"}, content_type="application/json")
    assert closed.status_code == 200, closed.content
    assert (closed.json()["status"], closed.json()["outcome"]) == ("done", "已致电")
    assert api.get("/api/v1/tasks?status=open").json()["count"] == 0
    assert FollowUpTask.objects.get().status == "done"


def test_a_retried_post_with_the_same_idempotency_key_records_once(api, member, manager):
    body = {"kind": "complaint", "body": "吵"}
    first = post_event(api, member.pk, body, HTTP_IDEMPOTENCY_KEY="k-1")
    again = post_event(api, member.pk, body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert MemberEvent.objects.count() == FollowUpTask.objects.count() == 1
