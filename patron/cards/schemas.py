"""The card API's bodies (API.md §7) and the one shape of a card in answers."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import ConfigDict

from patron.cards.models import Card
from patron.core.apitypes import NOT_BLANK, STRIPPED, Id, StaffName, counted
from patron.ledger.models import TOPUP_CEILING

PaymentMethod = Literal["cash", "wechat", "alipay", "card", "other", "bank_card"]
# What a reader gives: no spaces, up to 64 characters (Card.physical_id).
PHYSICAL_ID = rf"^[^\x00{STRIPPED}]{{1,64}}$"
# A card number in a path: digits (prefix, sequence and check digit), as Card.card_no holds.
CARD_NO = r"^[0-9]{1,20}$"


class CardIssueIn(Schema):
    member: Id = Field(..., description="Member id")
    product: str = Field(..., max_length=32, pattern=NOT_BLANK, description="Card product code")
    physical_id: str | None = Field(None, pattern=PHYSICAL_ID, description="Physical card id")
    payment_method: PaymentMethod = "cash"
    topup: counted(0, TOPUP_CEILING, "Fen topped up with the issue (may waive the fee)") = 0
    store: str | None = Field(None, max_length=32, description="Store code")
    staff: StaffName = None


class CardLostIn(Schema):
    reason: str | None = Field(None, max_length=200, pattern=r"^[^\x00]*$")


class CardReplaceIn(Schema):
    physical_id: str | None = Field(None, pattern=PHYSICAL_ID)
    payment_method: PaymentMethod = "cash"


class CardExchangeIn(Schema):
    physical_id: str | None = Field(None, pattern=PHYSICAL_ID)
    payment_method: PaymentMethod = "cash"


class CardBindIn(Schema):
    physical_id: str = Field(..., pattern=PHYSICAL_ID)


def _identity_required(schema: dict[str, Any]) -> None:
    # The document asks for `identity_checked: true`; the service refuses anything else with
    # its own code (`identity_not_checked`), so clients see why.
    schema.setdefault("required", []).append("identity_checked")
    schema["properties"]["identity_checked"] = {"const": True, "type": "boolean"}


class CardRefundIn(Schema):
    model_config = ConfigDict(json_schema_extra=_identity_required)

    pin: str | None = Field(None, max_length=20, pattern=r"^[^\x00]*$")
    identity_checked: bool = Field(
        False, description="Staff checked the member's identity document (required: true)"
    )
    payment_method: PaymentMethod | None = None


class CardIssuedOut(Schema):
    card_no: str
    product: str | None
    status: str
    fee_paid: int
    fee_waived: bool
    valid_until: dt.datetime | None = None
    member: int


class CardReplacedOut(CardIssuedOut):
    replaces: str = Field(..., description="The number of the card this one replaces")
    replace_fee_paid: int = Field(
        ..., description="The replacement fee taken by this step (fen); fee_paid is the card fee"
    )


class CardStatusOut(Schema):
    card_no: str
    status: str


class CardRefundOut(Schema):
    card_no: str
    principal_returned: int
    bonus_forfeited: int
    bonus_returned: int
    fee_returned: int
    status: str


class CardHolderOut(Schema):
    id: int
    name: str
    mobile: str


class CardEventOut(Schema):
    kind: str
    label: str
    at: dt.datetime
    store: str | None
    user: str | None
    channel: str
    detail: dict[str, Any]


class CardDetailOut(Schema):
    card_no: str
    member: CardHolderOut
    product: str | None
    product_name: str | None
    status: str
    status_label: str
    physical_id: str
    issued_at: dt.datetime
    valid_until: dt.datetime | None
    lost_at: dt.datetime | None
    closed_at: dt.datetime | None
    replaced_by: str | None
    fee_paid: int
    fee_waived: bool
    history: list[CardEventOut]


def card_summary(card: Card) -> dict[str, Any]:
    """A card as the member's `cards` list shows it."""
    return {
        "card_no": card.card_no,
        "product": card.product.code if card.product_id else None,
        "status": card.status,
        "physical_id": card.physical_id,
        "issued_at": card.issued_at,
        "valid_until": card.valid_until,
        "replaced_by": card.replaced_by.card_no if card.replaced_by_id else None,
    }
