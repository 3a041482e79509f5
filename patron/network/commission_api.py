"""The commission API (API.md §12): `GET /commissions?month=2027-03[&staff=][&store=]`."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from patron.core.apitypes import documented
from patron.core.problems import Problem
from patron.network import commission_selectors as selectors

router = Router(tags=["network"])
ERRORS = {401: Problem, 403: Problem, 422: Problem}
# What the service takes (patron.network.commission_selectors.parse_month), its own message
# for anything else.
MONTH_PATTERN = r"^(|(20[0-9]{2}|2100)-(0[1-9]|1[0-2]))$"


class CommissionFilters(Schema):
    month: str = Field(
        "",
        max_length=7,
        description="YYYY-MM (2000-01 to 2100-12) in the merchant's zone; absent: this month",
        json_schema_extra=documented(pattern=MONTH_PATTERN),
    )
    staff: str = Field("", max_length=150, description="A staff user name")
    store: str = Field("", max_length=32, description="A store code")


class CommissionRowOut(Schema):
    staff: str = Field(..., description="The staff's user name")
    name: str
    store: str | None = Field(..., description="The store's code (of the card, top-up, member)")
    cards: int = Field(..., description="Cards sold")
    topup_amount: int = Field(..., description="Principal topped up, fen")
    recruited: int = Field(..., description="Members recruited")
    card_amount: int = Field(..., description="Commission on cards, fen")
    topup_commission: int = Field(..., description="Commission on top-ups, fen")
    ladder_bonus: int = Field(..., description="The recruitment ladder's bonus, fen")
    amount: int = Field(..., description="The commission in all, fen")


class CommissionStatementOut(Schema):
    month: str
    rows: list[CommissionRowOut]
    items: list[CommissionRowOut] = Field(..., description="The same rows (another name)")


@router.get(
    "/commissions",
    response={200: CommissionStatementOut, **ERRORS},
    summary="Staff commissions of a month, per staff and store",
)
def commissions(request: HttpRequest, filters: Query[CommissionFilters]):
    actor = request.actor
    first = selectors.parse_month(filters.month, actor.merchant.timezone)
    rows = selectors.statement(actor, first, staff=filters.staff, store=filters.store)
    found = [row.as_dict() for row in rows]
    return {"month": first.strftime("%Y-%m"), "rows": found, "items": found}
