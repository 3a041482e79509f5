from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from ninja import Field, Schema
from pydantic import BaseModel, ConfigDict

from patron.core.apitypes import NOT_BLANK, Id, Moment, counted, documented
from patron.sales.services import MAX_CODES, MAX_LINES, MAX_PRICE, MAX_QUANTITY, PIN_LENGTH

# The limits are the services' (patron.sales.services), which check them with their messages
# and field paths ("lines[0].quantity"): the document states them, so a schema-valid basket is
# never refused for its shape.
Quantity = counted(1, MAX_QUANTITY)
Price = counted(1, MAX_PRICE, "Fen per unit, list price")
Fen = counted(0, MAX_PRICE)
Code = Annotated[str, Field(json_schema_extra=documented(minLength=1, maxLength=64))]
Sku = Annotated[
    str, Field(min_length=1, max_length=64, json_schema_extra=documented(pattern=NOT_BLANK))
]
# A PIN's digits: ASCII, or the full-width forms a Chinese input method types (０-９), which
# the server reads as the same digits (services.pin_digits).
PIN_DIGIT = "[0-9\\uff10-\\uff19]"


def _digit(digit: int, full_width: bool) -> str:
    return f"\\u{0xFF10 + digit:04x}" if full_width else str(digit)


def _span(first: int, last: int, full_width: bool) -> str:
    """Digits first..last (0-9) as a member of a regex class."""
    low, high = _digit(first, full_width), _digit(last, full_width)
    return "" if first > last else low if first == last else f"{low}-{high}"


def other_digit(digit: int) -> str:
    """A regex class of every digit but `digit`, in both forms."""
    spans = [_span(0, digit - 1, wide) + _span(digit + 1, 9, wide) for wide in (False, True)]
    return "[" + "".join(spans) + "]"


def not_one_digit_repeated(length: int) -> str:
    """`length` digits, not one digit repeated (API.md §7): some neighbours differ. Spelled
    without a backreference or a lookahead (not every engine reading the document has them),
    and with the length in the pattern (a generator then needs no filter): the first two
    neighbours that differ sit at 0..length-2."""
    pairs = [f"[{d}{_digit(d, True)}]{other_digit(d)}" for d in range(10)]
    neighbours = "(?:" + "|".join(pairs) + ")"
    places = [
        f"{PIN_DIGIT}{{{before}}}{neighbours}{PIN_DIGIT}{{{length - before - 2}}}"
        for before in range(length - 1)
    ]
    return "^(?:" + "|".join(places) + ")$"


# What a sale's `pin` may be (services.verify_pin; empty: none given). One digit repeated is
# well formed here: PINs set before that rule still pay.
OptionalPin = Annotated[
    str,
    Field(
        max_length=12,
        json_schema_extra=documented(pattern=f"^({PIN_DIGIT}{{{PIN_LENGTH}}})?$"),
    ),
]


# Request bodies of the till's two busiest calls: plain pydantic models, which validate a
# JSON body without ninja's per-attribute getter (the same fields, limits and errors).
def no_null_default(schema: dict[str, Any]) -> None:
    """May be left out; null is not a value it takes."""
    schema.pop("default", None)


def sku_schema(schema: dict[str, Any]) -> None:
    no_null_default(schema)
    schema["pattern"] = NOT_BLANK


# A line names its product by `sku` or by `barcode` (API.md §6); the service refuses neither.
SKU_OR_BARCODE: dict[str, Any] = {"anyOf": [{"required": ["sku"]}, {"required": ["barcode"]}]}


def barcode_schema(schema: dict[str, Any]) -> None:
    no_null_default(schema)
    schema["pattern"] = NOT_BLANK


Barcode = Annotated[
    str,
    Field(
        min_length=1,
        max_length=20,
        description="The product's barcode, in place of its SKU",
        json_schema_extra=barcode_schema,
    ),
]


class LineIn(BaseModel):
    model_config = ConfigDict(json_schema_extra=SKU_OR_BARCODE)

    sku: str = Field(None, min_length=1, max_length=64, json_schema_extra=sku_schema)
    barcode: Barcode = None
    category: str = Field(
        None,
        max_length=40,
        description="One of the program's categories; the catalogue's when left out",
        json_schema_extra=no_null_default,
    )
    quantity: Quantity
    unit_price: Price = Field(
        None,
        description="Fen per unit, list price; the catalogue's when left out, an audited "
        "override when given",
        json_schema_extra=no_null_default,
    )
    member_price: Fen | None = Field(None, description="The POS's member price, if any")
    name: str = Field("", max_length=100)
    brand: str = Field("", max_length=60)
    model: str = Field("", max_length=60)
    size: str = Field("", max_length=30)
    colour: str = Field("", max_length=30)


Method = Literal["cash", "wechat", "alipay", "card", "other"]


class TenderIn(BaseModel):
    method: Method = Field(..., description="How it was paid (patron.ledger.payments)")
    amount: Annotated[int, Field(gt=0, le=MAX_PRICE, description="Fen paid this way")]
    tendered: int | None = Field(
        None, ge=0, le=MAX_PRICE, description="Cash only: what the customer handed over (fen)"
    )


def store_required(schema: dict[str, Any]) -> None:
    # An API key sells for the whole chain: it names the store of each sale (the service
    # refuses a sale without one: "Which store made this sale?").
    schema["required"] = [*schema.get("required", []), "store"]


def store_schema(schema: dict[str, Any]) -> None:
    schema.pop("default", None)
    schema["minLength"] = 1


class SaleIn(BaseModel):
    model_config = ConfigDict(json_schema_extra=store_required)

    member: Id | Annotated[str, Field(max_length=128)] | None = Field(
        None, description="Member id, card number, mobile or member QR token; null: walk-in"
    )
    store: str = Field(
        None, max_length=32, description="Store code", json_schema_extra=store_schema
    )
    occurred_at: Moment | None = Field(
        None,
        description="When the sale happened, with its UTC offset (defaults to now; a till may "
        "upload a sale up to the merchant's window back, 30 days unless set)",
    )
    lines: list[LineIn] = Field(..., max_length=MAX_LINES, json_schema_extra=documented(minItems=1))
    codes: list[Code] = Field(default_factory=list, max_length=MAX_CODES)
    points_to_redeem: Fen = 0
    stored_value: Fen = Field(0, description="Fen to pay from stored value")
    pin: OptionalPin | None = Field(
        None, description="The member's payment PIN (six digits) when stored value needs it"
    )
    tenders: list[TenderIn] | None = Field(
        None,
        max_length=5,
        description="How `cash_due` was paid, adding up to it exactly (else 422 "
        "tenders_mismatch); a method named twice is merged into one tender; absent: all in "
        "cash. A quote checks them when given.",
    )
    staff: str | None = Field(
        None,
        min_length=1,
        max_length=150,
        description="Who sold: a staff user name of the merchant (an active one who may sell at "
        "this store); absent: the API key's or the signed-in user",
    )


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


class TenderOut(BaseModel):
    method: str
    amount: int
    tendered: int | None = None
    change: int = 0


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
    tenders: list[TenderOut] = []
    staff: str | None = None


class RefundLineIn(Schema):
    sku: Sku
    quantity: Quantity


# Either lines to refund or `all`: the service refuses a refund that names neither.
LINES_OR_ALL: dict[str, Any] = {
    "anyOf": [
        {"required": ["all"], "properties": {"all": {"const": True}}},
        {"required": ["lines"], "properties": {"lines": {"minItems": 1}}},
    ]
}


class RefundIn(Schema):
    model_config = ConfigDict(json_schema_extra=LINES_OR_ALL)

    lines: list[RefundLineIn] = Field(default_factory=list, max_length=MAX_LINES)
    all: bool = False
    reason: str = Field("", max_length=200)


class RefundLineOut(Schema):
    sku: str
    quantity: int
    amount: int


class RefundTenderOut(Schema):
    method: str
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
    tenders: list[RefundTenderOut]
    sale_status: str
    created_at: dt.datetime


class QrTokenOut(Schema):
    token: str
    expires_at: dt.datetime


class IdentifiedOut(Schema):
    id: int
    card_no: str
    name: str
    mobile: str
    tier: str | None
    points: int
    stored_value: int
