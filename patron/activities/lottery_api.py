"""REST endpoints of the lottery part (API.md §11): a member's draw."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from patron.activities import lottery as services
from patron.core.idempotency import key_for
from patron.core.problems import Problem
from patron.members.selectors import member_for

router = Router(tags=["activities"])
ERRORS = {401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}


class DrawIn(Schema):
    lottery: str = Field(min_length=1, max_length=32, description="The lottery's code")


class PrizeOut(Schema):
    code: str
    kind: str = Field(description="points, coupon or none")
    value: int = Field(description="What the prize cost the lottery's budget, in fen")


class DrawOut(Schema):
    id: int
    lottery: str
    prize: PrizeOut
    points: int = Field(description="Points credited by a points prize")
    coupon: str | None = Field(description="The code of the coupon a coupon prize issued")
    cost_points: int
    seed: str = Field(description="The random seed that drew the prize (for audit and replay)")
    odds_version: int


@router.post(
    "/members/{member_id}/draws",
    response={201: DrawOut, **ERRORS},
    summary="Draw once in a lottery (costs its points; the budget is never exceeded)",
)
def draw(request: HttpRequest, member_id: int, payload: DrawIn):
    actor = request.actor
    member = member_for(actor, member_id)
    record = services.draw(actor, member, payload.lottery, key=key_for(request, "lottery-draw"))
    return Status(
        201,
        {
            "id": record.pk,
            "lottery": record.lottery.code,
            "prize": {"code": record.prize_code, "kind": record.prize_kind, "value": record.value},
            "points": record.points,
            "coupon": record.coupon.code if record.coupon_id else None,
            "cost_points": record.cost_points,
            "seed": record.seed,
            "odds_version": record.odds.version,
        },
    )
