"""The settlement API (API.md §12): a month's statement between stores, its close, the flows
behind a pair and the xlsx export. Store codes name the parties (`HQ`: no store)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from django.http import HttpRequest, HttpResponse
from ninja import Path, Router, Schema
from pydantic import Field

from patron.core import months
from patron.core.apitypes import documented
from patron.core.downloads import XLSX_TYPE
from patron.core.idempotency import key_for
from patron.core.problems import Problem
from patron.network import settlement_exports as exports
from patron.network import settlement_selectors as selectors
from patron.network import settlement_services as services

router = Router(tags=["network"])
ERRORS = {401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}
# The months `settlement_selectors.parse_month` takes (2000-01 to 2100-12); it refuses others
# with its own message, so the pattern is for the document only.
MONTH_PATTERN = months.MONTH_PATTERN
Month = Annotated[
    str,
    Field(description="A month, YYYY-MM", json_schema_extra=documented(pattern=MONTH_PATTERN)),
]
MonthInPath = Path[Month]


class SettlementRowOut(Schema):
    payer: str
    payee: str
    amount: int


class SettlementLateOut(Schema):
    kind: str
    payer: str
    payee: str
    amount: int
    occurred_at: dt.datetime
    occurred_month: str
    sale: int | None
    transaction: int | None


class SettlementActivityOut(Schema):
    activity: str
    payer: str
    payee: str
    amount: int


class SettlementOut(Schema):
    month: str
    status: str
    closed_at: dt.datetime | None
    closed_by: str | None
    rows: list[SettlementRowOut]
    net: dict[str, int]
    late: list[SettlementLateOut]
    activities: list[SettlementActivityOut]


class SettlementFlowOut(Schema):
    key: str
    kind: str
    amount: int
    occurred_at: dt.datetime
    late: bool
    sale: int | None
    refund: int | None
    transaction: int | None
    activity: str | None
    member: int | None
    member_mobile: str
    topup: int | None
    topup_at: dt.datetime | None
    topup_store: str | None


def _xlsx(found: selectors.Statement) -> HttpResponse:
    response = HttpResponse(exports.workbook(found), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{exports.filename(found)}"'
    return response


@router.get(
    "/settlements",
    response={200: SettlementOut, **ERRORS},
    summary="A month's settlement between stores (?format=xlsx: the workbook)",
)
def settlement(request: HttpRequest, month: Month, format: str = "json"):
    found = selectors.statement(request.actor, month)
    if format == "xlsx":
        return _xlsx(found)
    return found.as_dict()


@router.get(
    "/settlements/{month}.xlsx",
    response={200: None, **ERRORS},
    summary="A month's settlement as an xlsx workbook",
)
def settlement_xlsx(request: HttpRequest, month: MonthInPath):
    return _xlsx(selectors.statement(request.actor, month))


@router.post(
    "/settlements/{month}/close",
    response={200: SettlementOut, **ERRORS},
    summary="Close a month: its statement is frozen (HQ)",
)
def close_settlement(request: HttpRequest, month: MonthInPath):
    found = services.close_month(request.actor, month, key=key_for(request, "settlement-close"))
    return found.as_dict()


@router.get(
    "/settlements/{month}/flows",
    response={200: list[SettlementFlowOut], **ERRORS},
    summary="The sales and top-ups behind a store pair's figure",
)
def settlement_flows(request: HttpRequest, month: MonthInPath, payer: str, payee: str):
    return selectors.pair_lines(request.actor, month, payer, payee)
