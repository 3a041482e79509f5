"""REST endpoints of member events and follow-up tasks (F-32; docs/member-events.md).

Events are recorded per member, within the members the caller sees (a store's staff: their
store's members); a complaint answers with the follow-up task it opened.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from patron.core.apitypes import Id, Moment, PathId, counted
from patron.core.problems import Problem
from patron.insight import feedback
from patron.insight.models import FollowUpTask, MemberEvent
from patron.members.selectors import member_for

router = Router(tags=["insight"])
ERRORS = {401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}
KINDS = Literal["cancellation", "return", "complaint", "review", "suggestion", "referral"]


class EventIn(Schema):
    kind: KINDS
    body: str = Field("", max_length=feedback.MAX_TEXT)
    rating: counted(1, 5) | None = Field(None, description="1 to 5, required for a review only")
    store: str | None = Field(None, max_length=32, description="Store code")
    sale_id: Id | None = None
    occurred_at: Moment | None = Field(None, description="Defaults to now; never in the future")
    assignee: Id | None = Field(None, description="A complaint's follow-up: a staff user id")
    due_in_days: counted(0, feedback.MAX_DUE_DAYS) | None = Field(
        None, description="A complaint's follow-up: days to call back (default 2)"
    )


class TaskOut(Schema):
    id: int
    event_id: int
    member_id: int
    status: str
    store: str | None
    assignee: str | None
    due_on: dt.date
    overdue: bool
    outcome: str
    closed_at: dt.datetime | None
    closed_by: str | None


class EventOut(Schema):
    id: int
    member_id: int
    kind: str
    body: str
    rating: int | None
    store: str | None
    sale_id: int | None
    occurred_at: dt.datetime
    recorded_by: str | None
    task: TaskOut | None = None


class EventPage(Schema):
    items: list[EventOut]
    count: int
    page: int
    page_size: int


class TaskPage(Schema):
    items: list[TaskOut]
    count: int
    page: int
    page_size: int


class TaskFilters(Schema):
    status: Literal["open", "done", ""] = ""
    mine: bool = False
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(50, ge=1, le=200)


class PageFilters(Schema):
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(50, ge=1, le=200)


class CloseIn(Schema):
    outcome: str = Field(..., max_length=feedback.MAX_TEXT)


def _username(user) -> str | None:
    return user.get_username() if user is not None else None


def task_out(task: FollowUpTask, today: dt.date) -> dict:
    return {
        "id": task.pk,
        "event_id": task.event_id,
        "member_id": task.event.member_id,
        "status": task.status,
        "store": task.store.code if task.store else None,
        "assignee": _username(task.assignee),
        "due_on": task.due_on,
        "overdue": feedback.is_overdue(task, today),
        "outcome": task.outcome,
        "closed_at": task.closed_at,
        "closed_by": _username(task.closed_by),
    }


def event_out(event: MemberEvent, today: dt.date) -> dict:
    task = getattr(event, "task", None) if event.kind == MemberEvent.Kind.COMPLAINT else None
    return {
        "id": event.pk,
        "member_id": event.member_id,
        "kind": event.kind,
        "body": event.body,
        "rating": event.rating,
        "store": event.store.code if event.store else None,
        "sale_id": event.sale_id,
        "occurred_at": event.occurred_at,
        "recorded_by": _username(event.recorded_by),
        "task": task_out(task, today) if task is not None else None,
    }


@router.post(
    "members/{member_id}/events",
    response={201: EventOut, **ERRORS},
    summary="Record a member event",
)
def record_event(request: HttpRequest, member_id: PathId, payload: EventIn):
    actor = request.actor
    member = member_for(actor, member_id)
    data = feedback.EventInput(**payload.model_dump())
    event = feedback.record_event(actor, member, data)
    event = feedback.events_for(actor).get(pk=event.pk)
    return Status(201, event_out(event, feedback.local_today(actor)))


@router.get(
    "members/{member_id}/events",
    response={200: EventPage, **ERRORS},
    summary="A member's events, newest first",
)
def list_events(request: HttpRequest, member_id: PathId, filters: Query[PageFilters]):
    actor = request.actor
    member = member_for(actor, member_id)
    events = feedback.member_events(actor, member)
    start = (filters.page - 1) * filters.page_size
    today = feedback.local_today(actor)
    return {
        "items": [event_out(e, today) for e in events[start : start + filters.page_size]],
        "count": events.count(),
        "page": filters.page,
        "page_size": filters.page_size,
    }


@router.get("tasks", response={200: TaskPage, **ERRORS}, summary="Follow-up tasks")
def list_tasks(request: HttpRequest, filters: Query[TaskFilters]):
    actor = request.actor
    tasks = feedback.tasks_for(actor)
    if filters.status:
        tasks = tasks.filter(status=filters.status)
    if filters.mine:
        tasks = tasks.filter(assignee=actor.user) if actor.user else tasks.none()
    start = (filters.page - 1) * filters.page_size
    today = feedback.local_today(actor)
    return {
        "items": [task_out(t, today) for t in tasks[start : start + filters.page_size]],
        "count": tasks.count(),
        "page": filters.page,
        "page_size": filters.page_size,
    }


@router.post(
    "tasks/{task_id}/close", response={200: TaskOut, **ERRORS}, summary="Close a follow-up"
)
def close_task(request: HttpRequest, task_id: PathId, payload: CloseIn):
    actor = request.actor
    task = feedback.close_task(actor, feedback.task_for(actor, task_id), payload.outcome)
    return task_out(feedback.task_for(actor, task.pk), feedback.local_today(actor))
