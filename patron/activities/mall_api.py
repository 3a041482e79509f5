"""REST endpoints of the points mall (API.md §11): redeem, fulfil, cancel, list rewards."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from patron.activities import mall, mall_selectors
from patron.activities.models import Redemption
from patron.core.idempotency import key_for
from patron.core.problems import Problem
from patron.members.selectors import member_for
from patron.tenancy.selectors import store_by_code

router = Router(tags=["activities"])
ERRORS = {401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}
MAX_FEN = 10**12


class MallTenderIn(Schema):
    method: Literal["cash", "wechat", "alipay", "card", "other"]
    amount: Annotated[int, Field(gt=0, le=MAX_FEN, description="Fen paid this way")]


class RedeemIn(Schema):
    reward: str = Field(..., min_length=1, max_length=32, description="The reward's code")
    store: str | None = Field(None, max_length=32, description="Where it is redeemed")
    tenders: list[MallTenderIn] | None = Field(
        None,
        description="How the cash part is paid now (adding up to it); left out, it stays due "
        "until fulfilment",
    )


class FulfilIn(Schema):
    tracking_no: str | None = Field(None, max_length=64, pattern=r"^[^\x00]*$")
    store: str | None = Field(None, max_length=32)
    tenders: list[MallTenderIn] | None = None


class RedemptionOut(Schema):
    id: int
    reward: str
    member: int
    points_spent: int
    cash_due: int
    cash_paid: int
    status: str
    coupon: str | None = None
    tracking_no: str = ""


class RewardOut(Schema):
    code: str
    name: str
    kind: str
    points: int
    cash: int
    stock: int | None
    left: int | None
    per_member: int | None


def shown(redemption: Redemption) -> dict[str, Any]:
    return {
        "id": redemption.pk,
        "reward": redemption.reward.code,
        "member": redemption.member_id,
        "points_spent": redemption.points,
        "cash_due": redemption.cash_due,
        "cash_paid": redemption.cash_paid,
        "status": redemption.status,
        "coupon": redemption.coupon.code if redemption.coupon_id else None,
        "tracking_no": redemption.tracking_no,
    }


def tenders_of(given: list[MallTenderIn] | None) -> list[mall.Tender] | None:
    if given is None:
        return None
    return [mall.Tender(t.method, t.amount) for t in given]


@router.get("/rewards", response={200: list[RewardOut], **ERRORS}, summary="Points mall rewards")
def list_rewards(request: HttpRequest):
    return [
        {
            "code": r.code,
            "name": r.name,
            "kind": r.kind,
            "points": r.points,
            "cash": r.cash,
            "stock": r.stock,
            "left": r.left,
            "per_member": r.per_member,
        }
        for r in mall_selectors.rewards(request.actor)
    ]


@router.post(
    "/members/{member_id}/redeem",
    response={201: RedemptionOut, **ERRORS},
    summary="Spend a member's points on a points-mall reward",
)
def redeem(request: HttpRequest, member_id: int, payload: RedeemIn):
    actor = request.actor
    member = member_for(actor, member_id)
    reward = mall.reward_for(actor, payload.reward)
    store = store_by_code(actor.merchant, payload.store) if payload.store else None
    redemption = mall.redeem(
        actor,
        member,
        reward,
        key=key_for(request, "mall-redeem"),
        store=store,
        tenders=tenders_of(payload.tenders),
    )
    return Status(201, shown(redemption))


@router.get(
    "/redemptions/{redemption_id}", response={200: RedemptionOut, **ERRORS}, summary="A redemption"
)
def get_redemption(request: HttpRequest, redemption_id: int):
    return Status(200, shown(mall.redemption_for(request.actor, redemption_id)))


@router.post(
    "/redemptions/{redemption_id}/fulfil",
    response={200: RedemptionOut, **ERRORS},
    summary="Hand goods over in store, or ship them with a tracking number",
)
def fulfil(request: HttpRequest, redemption_id: int, payload: FulfilIn | None = None):
    actor = request.actor
    payload = payload or FulfilIn()
    redemption = mall.redemption_for(actor, redemption_id)
    store = store_by_code(actor.merchant, payload.store) if payload.store else None
    done = mall.fulfil(
        actor,
        redemption,
        tracking_no=payload.tracking_no or "",
        tenders=tenders_of(payload.tenders),
        store=store,
    )
    return Status(200, shown(mall.redemption_for(actor, done.pk)))


@router.post(
    "/redemptions/{redemption_id}/cancel",
    response={200: RedemptionOut, **ERRORS},
    summary="Cancel a redemption: points, stock and any cash paid come back",
)
def cancel(request: HttpRequest, redemption_id: int):
    actor = request.actor
    done = mall.cancel(actor, mall.redemption_for(actor, redemption_id))
    return Status(200, shown(mall.redemption_for(actor, done.pk)))
