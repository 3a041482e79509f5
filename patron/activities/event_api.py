"""REST endpoints of member-only events (API.md §11): create, list and read events; sign a
member up (confirmed or waitlisted), list and cancel sign-ups; check in at the door.

Cancelling is `POST /events/{code}/signups/{id}/cancel` (docs/activities.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from patron.activities import events_service as service
from patron.activities.models import EventSignup, MemberOnlyEvent
from patron.core.apitypes import NOT_BLANK, Id, LocalMoment, counted
from patron.core.problems import Problem
from patron.members.selectors import member_for
from patron.members.validation import mask_mobile

router = Router(tags=["activities"])
ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}


class MemberOnlyEventIn(Schema):
    code: str = Field(
        ...,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$",
        description="Code of the event, e.g. TEA-0612",
    )
    name: str = Field(..., min_length=1, max_length=100, pattern=NOT_BLANK)
    # LocalMoment bounds the year: a year-1 start used to reach the service and fail there (500).
    starts_at: LocalMoment = Field(..., description="ISO 8601; without offset: merchant's zone")
    ends_at: LocalMoment | None = None
    place: str = Field(..., min_length=1, max_length=200, pattern=NOT_BLANK)
    capacity: counted(1, 100_000, "Places; beyond them sign-ups wait in line")
    store: str | None = Field(None, max_length=32, description="Store code")
    tiers: list[str] | None = Field(None, description="Tier codes that may sign up; none: all")
    description: str | None = None


class MemberOnlyEventOut(Schema):
    code: str
    name: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    place: str
    capacity: int
    store: str | None
    tiers: list[str]
    description: str
    confirmed: int
    waitlisted: int
    checked_in: int


class EventList(Schema):
    items: list[MemberOnlyEventOut]


class SignupIn(Schema):
    member: Id = Field(..., description="Member id")


class SignupOut(Schema):
    id: int
    event: str
    member: int
    mobile: str
    status: str
    position: int | None = Field(None, description="Place on the waitlist, 1 first")
    signed_up_at: dt.datetime
    checked_in_at: dt.datetime | None


class SignupList(Schema):
    items: list[SignupOut]


class CancelOut(Schema):
    id: int
    status: str
    promoted: SignupOut | None


class DoorPassIn(Schema):
    token: str = Field(..., max_length=200, description="The token of the member's door QR")


def present_event(event: MemberOnlyEvent) -> dict[str, Any]:
    return {
        "code": event.code,
        "name": event.name,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "place": event.place,
        "capacity": event.capacity,
        "store": event.store.code if event.store_id else None,
        "tiers": list(event.tiers or []),
        "description": event.description,
        "confirmed": getattr(event, "confirmed", 0),
        "waitlisted": getattr(event, "waitlisted", 0),
        "checked_in": getattr(event, "checked_in", 0),
    }


def present_signup(signup: EventSignup) -> dict[str, Any]:
    return {
        "id": signup.pk,
        "event": signup.event.code,
        "member": signup.member_id,
        "mobile": mask_mobile(signup.member.mobile),
        "status": signup.status,
        "position": service.waitlist_position(signup),
        "signed_up_at": signup.signed_up_at,
        "checked_in_at": signup.checked_in_at,
    }


def _input(payload: MemberOnlyEventIn) -> service.EventInput:
    return service.EventInput(
        name=payload.name,
        starts_at=payload.starts_at,
        place=payload.place,
        capacity=payload.capacity,
        ends_at=payload.ends_at,
        store=payload.store,
        tiers=payload.tiers,
        description=payload.description,
    )


@router.post(
    "/events", response={201: MemberOnlyEventOut, **ERRORS}, summary="Create a member-only event"
)
def create_event(request: HttpRequest, payload: MemberOnlyEventIn):
    event = service.create_event(request.actor, payload.code, _input(payload))
    return Status(201, present_event(event))


@router.get("/events", response={200: EventList, **ERRORS}, summary="The merchant's events")
def list_events(request: HttpRequest):
    return {"items": [present_event(e) for e in service.events_for(request.actor)]}


@router.get("/events/{code}", response={200: MemberOnlyEventOut, **ERRORS}, summary="One event")
def get_event(request: HttpRequest, code: str):
    return present_event(service.event_for(request.actor, code))


@router.put(
    "/events/{code}", response={200: MemberOnlyEventOut, **ERRORS}, summary="Change an event"
)
def update_event(request: HttpRequest, code: str, payload: MemberOnlyEventIn):
    event = service.event_for(request.actor, code)
    return present_event(service.update_event(request.actor, event, _input(payload)))


@router.post(
    "/events/{code}/signups",
    response={201: SignupOut, **ERRORS},
    summary="Sign a member up: confirmed, or waitlisted beyond capacity",
)
def sign_up(request: HttpRequest, code: str, payload: SignupIn):
    event = service.event_for(request.actor, code)
    member = member_for(request.actor, payload.member)
    return Status(201, present_signup(service.sign_up(request.actor, event, member)))


@router.get(
    "/events/{code}/signups", response={200: SignupList, **ERRORS}, summary="An event's sign-ups"
)
def list_signups(request: HttpRequest, code: str, status: str | None = None):
    signups = service.signups_of(service.event_for(request.actor, code))
    if status:
        signups = signups.filter(status=status)
    return {"items": [present_signup(s) for s in signups]}


@router.post(
    "/events/{code}/signups/{signup_id}/cancel",
    response={200: CancelOut, **ERRORS},
    summary="Cancel a sign-up; the first on the waitlist takes the place",
)
def cancel_signup(request: HttpRequest, code: str, signup_id: int):
    signup = service.signup_for(service.event_for(request.actor, code), signup_id)
    promoted = service.cancel(request.actor, signup)
    return {
        "id": signup.pk,
        "status": signup.status,
        "promoted": present_signup(promoted) if promoted else None,
    }


@router.post(
    "/events/{code}/checkins",
    response={200: SignupOut, **ERRORS},
    summary="Check a member in at the door with their QR's token",
)
def check_in(request: HttpRequest, code: str, payload: DoorPassIn):
    event = service.event_for(request.actor, code)
    return present_signup(service.check_in(request.actor, event, payload.token))
