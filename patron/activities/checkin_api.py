"""REST endpoints of the check-in part (API.md §11): check in (or fill a missed day with a
make-up card), a member's check-in state, make-up cards given by staff, referral rewards."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pydantic
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from patron.activities import checkin as checkin_services
from patron.activities import referral
from patron.activities.models import CheckIn
from patron.core.errors import FieldError, ValidationFailed
from patron.core.idempotency import key_for
from patron.core.problems import Problem
from patron.members.selectors import member_for

router = Router(tags=["activities"])
ERRORS = {401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem, 423: Problem}


class CheckinIn(Schema):
    model_config = ConfigDict(extra="forbid")
    makeup_day: dt.date | None = Field(
        None, description="Fill this missed day (yesterday or earlier) with a make-up card"
    )


class CheckinOut(Schema):
    points: int = Field(..., description="Points this check-in gave (with any streak bonus)")
    streak: int = Field(..., description="Consecutive days checked in, ending with this one")
    day: dt.date
    bonus: int = Field(0, description="Of `points`, the streak bonus")
    makeup_cards: int = Field(0, description="Make-up cards the streak bonus gave")
    makeup: bool = False


class CheckinStateOut(Schema):
    today: dt.date
    checked_in_today: bool
    streak: int
    makeup_cards: int
    days: list[dt.date] = Field(..., description="Days checked in this month")


class MakeupGrantIn(Schema):
    model_config = ConfigDict(extra="forbid")
    count: int = Field(..., ge=1, le=checkin_services.MAX_GRANT)
    reason: str = Field(..., min_length=1, max_length=200)


class MakeupGrantOut(Schema):
    makeup_cards: int


class ReferralOut(Schema):
    referral_code: str
    friends_joined: int
    rewards: list[dict[str, Any]]


def _checkin_input(request: HttpRequest) -> CheckinIn:
    """The body is optional (a plain check-in sends none): read it by hand, not by ninja."""
    raw = request.body.strip()
    if not raw or request.content_type != "application/json":
        return CheckinIn()
    try:
        return CheckinIn.model_validate_json(raw)
    except pydantic.ValidationError as problem:
        errors = [
            FieldError(".".join(str(p) for p in e["loc"]) or "$", e["msg"])
            for e in problem.errors()
        ]
        raise ValidationFailed(errors) from None


@router.post(
    "/members/{member_id}/checkins",
    response={201: CheckinOut, **ERRORS},
    summary="Check a member in today (merchant's zone), or fill a missed day with a make-up card",
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": CheckinIn.model_json_schema()}},
        }
    },
)
def check_in(request: HttpRequest, member_id: int):
    member = member_for(request.actor, member_id)
    payload = _checkin_input(request)
    outcome = checkin_services.check_in(request.actor, member, makeup_day=payload.makeup_day)
    row = outcome.checkin
    return Status(
        201,
        {
            "points": outcome.points,
            "streak": row.streak,
            "day": row.day,
            "bonus": outcome.bonus,
            "makeup_cards": outcome.makeup_cards,
            "makeup": row.makeup,
        },
    )


@router.get(
    "/members/{member_id}/checkins",
    response={200: CheckinStateOut, **ERRORS},
    summary="A member's streak, make-up cards and days checked in this month",
)
def checkin_state(request: HttpRequest, member_id: int):
    member = member_for(request.actor, member_id)
    today = checkin_services.local_today(request.actor.merchant)
    days = CheckIn.objects.filter(member=member, day__gte=today.replace(day=1), day__lte=today)
    listed = sorted(days.values_list("day", flat=True))
    return {
        "today": today,
        "checked_in_today": today in listed,
        "streak": checkin_services.current_streak(member, today),
        "makeup_cards": checkin_services.makeup_cards_of(member),
        "days": listed,
    }


@router.post(
    "/members/{member_id}/makeup-cards",
    response={201: MakeupGrantOut, **ERRORS},
    summary="Give a member make-up cards (补签卡)",
)
def grant_makeup_cards(request: HttpRequest, member_id: int, payload: MakeupGrantIn):
    actor = request.actor
    member = member_for(actor, member_id)
    count = checkin_services.give_makeup_cards(
        actor, member, payload.count, payload.reason, key=key_for(request, "makeup-grant")
    )
    return Status(201, {"makeup_cards": count})


@router.get(
    "/members/{member_id}/referrals",
    response={200: ReferralOut, **ERRORS},
    summary="A member's referral code, friends who joined with it and the rewards",
)
def member_referrals(request: HttpRequest, member_id: int):
    member = member_for(request.actor, member_id)
    rewards = member.referral_rewards.order_by("-created_at")
    return {
        "referral_code": member.referral_code,
        "friends_joined": referral.friends_joined(member),
        "rewards": [
            {
                "referee": reward.referee_id,
                "month": reward.month,
                "status": reward.status,
                "points": reward.points,
            }
            for reward in rewards
        ],
    }
