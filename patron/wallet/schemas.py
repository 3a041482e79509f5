from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Schema
from pydantic import StrictInt


class TopUpIn(Schema):
    member: StrictInt = Field(..., description="Member id")
    amount: StrictInt = Field(..., description="Fen paid in (principal)", gt=0)
    store: str | None = Field(None, max_length=32, description="Store code")
    payment_method: Literal["cash", "wechat", "alipay", "bank_card", "other"] = "cash"


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
    count: int
    page: int
    page_size: int


class AdjustmentIn(Schema):
    points: StrictInt = Field(..., description="Points to add (positive) or take away (negative)")
    reason: str = Field(..., min_length=1, max_length=200)


class AdjustmentOut(Schema):
    id: int
    member: int
    points: int
    reason: str
    available: int
