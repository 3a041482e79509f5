from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Schema

from patron.core.apitypes import NOT_BLANK, Id, StaffName, counted, documented
from patron.ledger.models import MAX_ADJUST_POINTS, TOPUP_CEILING

# Above the merchant's own limit (`stored_value.max_topup`, at most this) the server refuses.
TopUpAmount = counted(1, TOPUP_CEILING, "Fen paid in (principal), up to the merchant's maximum")
# Not zero: the document says `not: {const: 0}`, the service refuses it.
AdjustedPoints = counted(
    -MAX_ADJUST_POINTS,
    MAX_ADJUST_POINTS,
    "Points to add (positive) or take away (negative), not 0",
)


def not_zero(schema: dict) -> None:
    schema["not"] = {"const": 0}


class TopUpIn(Schema):
    member: Id = Field(..., description="Member id")
    amount: TopUpAmount
    store: str | None = Field(None, max_length=32, description="Store code")
    # The tenders' methods (patron.ledger.payments); `bank_card`, the name an earlier version
    # took, still reads as `card`.
    payment_method: Literal["cash", "wechat", "alipay", "card", "other", "bank_card"] = "cash"
    staff: StaffName = None


class StoredValueOut(Schema):
    principal: int
    bonus: int
    total: int


class TopUpOut(Schema):
    id: int
    member: int
    principal: int = Field(..., description="Principal credited by this top-up (fen)")
    bonus: int = Field(..., description="Bonus credited by this top-up (fen)")
    balance: int = Field(..., description="Stored value after the top-up (fen)")
    stored_value: StoredValueOut
    occurred_at: dt.datetime


class ExpiringOut(Schema):
    points: int
    expires_at: dt.datetime


class PointsOut(Schema):
    available: int
    pending: int
    expiring: list[ExpiringOut]


class BalancesOut(Schema):
    as_of: dt.datetime
    points: PointsOut
    stored_value: StoredValueOut
    shortfalls: dict[str, int]


class EntryOut(Schema):
    id: int
    transaction: int
    kind: str
    asset: str
    amount: int
    occurred_at: dt.datetime
    store: str | None
    reason: str
    source: str


class EntryPage(Schema):
    items: list[EntryOut]
    count: int = Field(..., description="exact up to 1,000; past it an estimate (`count_exact`)")
    count_exact: bool
    page: int
    page_size: int
    next_cursor: str | None = Field(None, description="pass as `cursor` for the next page")


class AdjustmentIn(Schema):
    points: AdjustedPoints = Field(..., json_schema_extra=not_zero)
    reason: str = Field(
        ..., min_length=1, max_length=200, json_schema_extra=documented(pattern=NOT_BLANK)
    )


class AdjustmentOut(Schema):
    id: int
    member: int
    points: int
    reason: str
    available: int
