"""The alliance API (API.md §12): invite a merchant, accept, decline, pause, resume, end; move a
member's points to the partner; the monthly clearing statement both sides see."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from patron.core.apitypes import NO_NUL, Id, PathId, counted, documented
from patron.core.errors import NotFound, ValidationFailed
from patron.core.idempotency import key_for
from patron.core.problems import Problem
from patron.core.text import INT64_MAX
from patron.members.models import Member
from patron.members.selectors import member_for, members_for
from patron.members.services import resolve_store
from patron.network import alliance_selectors as selectors
from patron.network import alliance_services as services
from patron.network.models import Alliance, AllianceExchange
from patron.tenancy.actor import Actor

router = Router(tags=["network"])
ERRORS = {401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}
SLUG = r"^[-a-zA-Z0-9_]+$"
RateSide = counted(1, services.MAX_RATE_SIDE)
ValueAmount = counted(0, services.MAX_RATE_SIDE)
ExchangePoints = counted(1, services.MAX_POINTS)
CardText = Annotated[str, Field(min_length=1, max_length=20, pattern=NO_NUL)]


class AllianceMonthQuery(Schema):
    month: str = Field(
        ...,
        description="The month, YYYY-MM (the proposer's local month)",
        json_schema_extra=documented(pattern=services.MONTH_PATTERN),
    )


class AllianceRateIn(Schema):
    model_config = ConfigDict(extra="forbid")
    points: RateSide = Field(..., description="This many of the proposer's points …")
    partner_points: RateSide = Field(..., description="… are worth this many of the partner's")


class AllianceValueIn(Schema):
    model_config = ConfigDict(extra="forbid")
    points: RateSide = Field(100, description="For every this many points issued …")
    amount: ValueAmount = Field(
        100, description="… the merchant whose member moved them owes this (fen)"
    )


class AllianceIn(Schema):
    model_config = ConfigDict(extra="forbid")
    partner: str = Field(
        ...,
        description="The invited merchant's slug",
        json_schema_extra=documented(minLength=1, maxLength=50, pattern=SLUG),
    )
    rate: AllianceRateIn
    value: AllianceValueIn | None = None


class AllianceMerchantOut(Schema):
    slug: str
    name: str


class AllianceStepOut(Schema):
    action: str
    merchant: str
    at: dt.datetime


class AllianceOut(Schema):
    id: int
    proposer: str = Field(..., description="Slug of the merchant that proposed it")
    partner: str = Field(..., description="Slug of the invited merchant")
    other: AllianceMerchantOut = Field(..., description="The other side, seen by the caller")
    role: str = Field(..., description="The caller's side: proposer or partner")
    status: str
    rate: dict[str, int]
    value: dict[str, int]
    created_at: dt.datetime
    steps: list[AllianceStepOut]


class AllianceExchangeIn(Schema):
    model_config = ConfigDict(extra="forbid")
    member: Id | CardText = Field(..., description="The member's id (or card number)")
    points: ExchangePoints = Field(..., description="The caller's points to move to the partner")
    store: str | None = Field(
        None, max_length=32, pattern=NO_NUL, description="Store code where it was asked for"
    )


class AllianceMemberOut(Schema):
    id: int
    card_no: str


class AllianceExchangeOut(Schema):
    id: int
    alliance: int
    direction: str
    source: str
    destination: str
    member: AllianceMemberOut
    member_at_partner: AllianceMemberOut
    created_member: bool = Field(False, description="The member was registered at the partner")
    points_out: int
    points_in: int
    amount: int = Field(..., description="Fen the source merchant owes the partner for it")
    created_at: dt.datetime


class AllianceStatementRowOut(Schema):
    model_config = ConfigDict(populate_by_name=True)
    from_: str = Field(..., alias="from")
    to: str
    points_out: int
    points_in: int
    amount: int
    exchanges: int


class AllianceStatementOut(Schema):
    month: str
    rows: list[AllianceStatementRowOut]
    net: dict[str, int] = Field(..., description="By merchant slug: + receives, - pays")
    payer: str | None
    payee: str | None
    amount: int
    value: dict[str, int]


def shown(alliance: Alliance, actor: Actor) -> dict[str, Any]:
    other = services.other_side(alliance, actor.merchant)
    return {
        "id": alliance.pk,
        "proposer": alliance.proposer.slug,
        "partner": alliance.partner.slug,
        "other": {"slug": other.slug, "name": other.name},
        "role": "proposer" if actor.merchant.pk == alliance.proposer_id else "partner",
        "status": alliance.status,
        "rate": {"points": alliance.rate_points, "partner_points": alliance.rate_partner_points},
        "value": {"points": alliance.value_points, "amount": alliance.value_amount},
        "created_at": alliance.created_at,
        "steps": [
            {"action": step.action, "merchant": step.merchant.slug, "at": step.at}
            for step in alliance.steps.select_related("merchant")
        ],
    }


def shown_exchange(made: AllianceExchange) -> dict[str, Any]:
    return {
        "id": made.pk,
        "alliance": made.alliance_id,
        "direction": made.direction,
        "source": made.source.slug,
        "destination": made.destination.slug,
        "member": {"id": made.member_id, "card_no": made.member.card_no},
        "member_at_partner": {
            "id": made.member_at_destination_id,
            "card_no": made.member_at_destination.card_no,
        },
        "created_member": getattr(made, "created_twin", False),
        "points_out": made.points_out,
        "points_in": made.points_in,
        "amount": made.amount,
        "created_at": made.created_at,
    }


def _member(actor: Actor, given: int | str) -> Member:
    if isinstance(given, int):
        if not 0 < given <= INT64_MAX:
            raise NotFound("Member not found")
        return member_for(actor, given)
    text = str(given).strip()[:20]
    found = None if "\x00" in text else members_for(actor).filter(card_no=text).first()
    if found is None:
        raise NotFound("Member not found")
    return found


@router.get("/alliances", response={200: list[AllianceOut], **ERRORS}, summary="Alliances")
def list_alliances(request: HttpRequest):
    actor = request.actor
    return [shown(alliance, actor) for alliance in selectors.alliances_for(actor)[:500]]


@router.post(
    "/alliances", response={201: AllianceOut, **ERRORS}, summary="Invite a merchant to an alliance"
)
def propose(request: HttpRequest, payload: AllianceIn):
    actor = request.actor
    value = payload.value or AllianceValueIn()
    alliance = services.propose(
        actor,
        payload.partner,
        payload.rate.points,
        payload.rate.partner_points,
        value.points,
        value.amount,
    )
    return Status(201, shown(alliance, actor))


@router.get(
    "/alliances/{alliance_id}", response={200: AllianceOut, **ERRORS}, summary="An alliance"
)
def get_alliance(request: HttpRequest, alliance_id: PathId):
    actor = request.actor
    return shown(selectors.alliance_for(actor, alliance_id), actor)


def _act(action: str):
    def handler(request: HttpRequest, alliance_id: PathId):
        actor = request.actor
        alliance = services.act(actor, selectors.alliance_for(actor, alliance_id), action)
        return shown(selectors.alliance_for(actor, alliance.pk), actor)

    handler.__name__ = f"alliance_{action}"
    return handler


for _action in services.ACTIONS:
    router.post(
        f"/alliances/{{alliance_id}}/{_action}",
        response={200: AllianceOut, **ERRORS},
        summary=f"Alliance: {_action}",
        operation_id=f"alliance_{_action}",
    )(_act(_action))


@router.post(
    "/alliances/{alliance_id}/exchanges",
    response={201: AllianceExchangeOut, **ERRORS},
    summary="Move a member's points to the partner at the alliance's rate",
)
def exchange(request: HttpRequest, alliance_id: PathId, payload: AllianceExchangeIn):
    actor = request.actor
    alliance = selectors.alliance_for(actor, alliance_id)
    member = _member(actor, payload.member)
    store = None
    if payload.store:
        store, errors = resolve_store(actor, payload.store)
        if errors:
            raise ValidationFailed(errors)
    made = services.exchange(
        actor, alliance, member, payload.points, key=key_for(request, "alliance"), store=store
    )
    return Status(201, shown_exchange(made))


@router.get(
    "/alliances/{alliance_id}/statement",
    response={200: AllianceStatementOut, **ERRORS},
    by_alias=True,
    summary="The month's clearing statement (the same figures on both sides)",
)
def statement(request: HttpRequest, alliance_id: PathId, query: Query[AllianceMonthQuery]):
    alliance = selectors.alliance_for(request.actor, alliance_id)
    return services.statement_answer(services.statement(alliance, query.month))
