from __future__ import annotations

import datetime as dt

from ninja import Field, Schema
from pydantic import BaseModel, StrictInt


# Request bodies of the till's two busiest calls: plain pydantic models, which validate a
# JSON body without ninja's per-attribute getter (the same fields, limits and errors).
class LineIn(BaseModel):
    sku: str = Field(..., min_length=1, max_length=64)
    category: str = Field(..., max_length=40)
    quantity: StrictInt
    unit_price: StrictInt = Field(..., description="Fen per unit, list price")
    member_price: StrictInt | None = Field(None, description="The POS's member price, if any")
    name: str = Field("", max_length=100)
    brand: str = Field("", max_length=60)
    model: str = Field("", max_length=60)
    size: str = Field("", max_length=30)
    colour: str = Field("", max_length=30)


class SaleIn(BaseModel):
    member: StrictInt | str | None = Field(
        None, description="Member id, card number, mobile or member QR token; null: walk-in"
    )
    store: str | None = Field(None, max_length=32, description="Store code")
    occurred_at: dt.datetime | None = Field(
        None, description="When the sale happened (defaults to now; up to 30 days back)"
    )
    lines: list[LineIn] = Field(..., max_length=200)
    codes: list[str] = Field(default_factory=list, max_length=20)
    points_to_redeem: StrictInt = 0
    stored_value: StrictInt = Field(0, description="Fen to pay from stored value")
    pin: str | None = Field(None, max_length=12)


# Sale answers are built as dicts (selectors.present_sale / present_quote): plain pydantic
# models validate them without ninja's per-object attribute getter, which bench/sales.py
# showed as the largest Python cost left in answering a sale.
class LineOut(BaseModel):
    sku: str
    category: str
    quantity: int
    unit_price: int
    member_price: int
    discount: int
    points_offset: int
    total: int
    points_earned: int
    gift: bool
    refunded_quantity: int = 0


class AppliedOut(BaseModel):
    code: str
    kind: str
    name: str
    benefit: str
    amount: int


class RejectedOut(BaseModel):
    code: str
    reason: str


class SaleOut(BaseModel):
    id: int | None = None
    member: int | None
    store: str
    occurred_at: dt.datetime
    status: str | None = None
    subtotal: int
    member_discount: int
    discount: int
    total: int
    lines: list[LineOut]
    applied: list[AppliedOut]
    rejected: list[RejectedOut]
    points_redeemed: int
    points_value: int
    points_earned: int
    points_pending: bool = False
    stored_value_paid: int
    cash_due: int
    saved: int


class RefundLineIn(Schema):
    sku: str = Field(..., min_length=1, max_length=64)
    quantity: StrictInt


class RefundIn(Schema):
    lines: list[RefundLineIn] = Field(default_factory=list, max_length=200)
    all: bool = False
    reason: str = Field("", max_length=200)


class RefundLineOut(Schema):
    sku: str
    quantity: int
    amount: int


class RefundOut(Schema):
    id: int
    sale: int
    amount: int
    cash_refunded: int
    stored_value_returned: int
    points_returned: int
    points_reversed: int
    points_shortfall: int
    coupons_returned: list[str]
    lines: list[RefundLineOut]
    sale_status: str
    created_at: dt.datetime


class QrTokenOut(Schema):
    token: str
    expires_at: dt.datetime


class PinIn(Schema):
    pin: str = Field(..., min_length=1, max_length=12)


class IdentifiedOut(Schema):
    id: int
    card_no: str
    name: str
    mobile: str
    tier: str | None
    points: int
    stored_value: int
