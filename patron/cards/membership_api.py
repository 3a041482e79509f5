"""Paid memberships and the member's PIN in the API (API.md §7; docs/memberships.md,
docs/cards-pin.md)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from patron.cards import memberships, pins
from patron.cards.models import Membership
from patron.core.apitypes import PathId, documented
from patron.core.idempotency import key_for
from patron.core.problems import Problem
from patron.ledger import payments
from patron.members.selectors import member_for
from patron.promotions.selectors import member_tier_code
from patron.sales.schemas import PIN_DIGIT, not_one_digit_repeated
from patron.sales.services import PIN_LENGTH

router = Router(tags=["cards"])
ERRORS = {401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem, 423: Problem}
# A tender's method (patron.ledger.payments; `bank_card` is read as `card`). Checked by the
# services with their own message; the document lists them.
Method = Annotated[
    str,
    Field(
        max_length=12,
        description="How the money was paid or paid back",
        json_schema_extra=documented(enum=[*payments.METHODS, *payments.ALIASES]),
    ),
]
NEW_PIN = Field(
    ...,
    max_length=12,
    description="Six digits, not one digit repeated (full-width digits count as digits)",
    json_schema_extra=documented(pattern=not_one_digit_repeated(PIN_LENGTH)),
)


class MembershipIn(Schema):
    product: str = Field(
        ..., min_length=1, max_length=32, description="A card product with paid days"
    )
    payment_method: Method = payments.CASH


class MembershipOut(Schema):
    id: int
    product: str
    tier: str
    valid_from: dt.datetime
    valid_until: dt.datetime
    status: str
    fee_paid: int
    refunded: int
    receipt_no: str | None


class MembershipList(Schema):
    items: list[MembershipOut]
    paid_until: dt.datetime | None


class MembershipRefundIn(Schema):
    payment_method: Method = payments.CASH


class MembershipRefundOut(Schema):
    membership: MembershipOut
    amount: int
    receipt_no: str | None
    tier: str | None


class PinIn(Schema):
    pin: str = NEW_PIN


class PinChangeIn(Schema):
    old_pin: str = Field(
        ...,
        max_length=12,
        description="The current PIN (a wrong one counts as a wrong attempt)",
        json_schema_extra=documented(pattern=f"^{PIN_DIGIT}{{{PIN_LENGTH}}}$"),
    )
    pin: str = NEW_PIN


def _identity_required(schema: dict[str, Any]) -> None:
    # Documented as required and true; the service answers `identity_not_checked` itself.
    schema.setdefault("required", [])
    if "identity_checked" not in schema["required"]:
        schema["required"].append("identity_checked")


class PinResetIn(Schema):
    model_config = ConfigDict(json_schema_extra=_identity_required)

    pin: str = NEW_PIN
    identity_checked: bool = Field(
        False,
        description="Staff checked the member's identity (ID card); must be true",
        json_schema_extra=documented(const=True),
    )


def present(membership: Membership) -> dict:
    first = membership.payments.order_by("pk").first()
    return {
        "id": membership.pk,
        "product": membership.product.code,
        "tier": membership.tier_code,
        "valid_from": membership.valid_from,
        "valid_until": membership.valid_until,
        "status": membership.status,
        "fee_paid": membership.fee_paid,
        "refunded": membership.refunded,
        "receipt_no": first.receipt_no if first else None,
    }


@router.post(
    "/members/{member_id}/memberships",
    response={201: MembershipOut, **ERRORS},
    summary="Buy (or renew) a paid membership",
)
def buy(request: HttpRequest, member_id: PathId, payload: MembershipIn):
    member = member_for(request.actor, member_id)
    membership = memberships.buy_membership(
        request.actor,
        member,
        payload.product,
        method=payload.payment_method,
        key=key_for(request, "membership"),
    )
    return Status(201, present(membership))


@router.get(
    "/members/{member_id}/memberships",
    response={200: MembershipList, **ERRORS},
    summary="The member's paid membership periods, newest first",
)
def list_memberships(request: HttpRequest, member_id: PathId):
    member = member_for(request.actor, member_id)
    rows = Membership.objects.filter(member=member).select_related("product")
    return {"items": [present(row) for row in rows], "paid_until": memberships.paid_until(member)}


@router.post(
    "/members/{member_id}/memberships/{membership_id}/refund",
    response={200: MembershipRefundOut, **ERRORS},
    summary="Refund a paid membership (the unused days, per the product's rule)",
)
def refund(
    request: HttpRequest, member_id: PathId, membership_id: PathId, payload: MembershipRefundIn
):
    member = member_for(request.actor, member_id)
    done = memberships.refund_membership(
        request.actor,
        member,
        membership_id,
        method=payload.payment_method,
        key=key_for(request, "membership-refund"),
    )
    member.refresh_from_db()
    return {
        "membership": present(done.membership),
        "amount": done.amount,
        "receipt_no": done.payment.receipt_no if done.payment else None,
        "tier": member_tier_code(member),
    }


# --- PIN -------------------------------------------------------------------------------------


@router.put(
    "/members/{member_id}/pin",
    response={204: None, **ERRORS},
    summary="Set the member's 6-digit payment PIN",
)
def set_pin(request: HttpRequest, member_id: PathId, payload: PinIn):
    pins.set_member_pin(request.actor, member_for(request.actor, member_id), payload.pin)
    return Status(204, None)


@router.post(
    "/members/{member_id}/pin/change",
    response={204: None, **ERRORS},
    summary="Change the PIN with the old one (a wrong old PIN counts as a wrong attempt)",
)
def change_pin(request: HttpRequest, member_id: PathId, payload: PinChangeIn):
    member = member_for(request.actor, member_id)
    pins.change_member_pin(request.actor, member, payload.old_pin, payload.pin)
    return Status(204, None)


@router.post(
    "/members/{member_id}/pin/reset",
    response={204: None, **ERRORS},
    summary="Reset a forgotten PIN (staff, after checking the member's identity)",
)
def reset_pin(request: HttpRequest, member_id: PathId, payload: PinResetIn):
    member = member_for(request.actor, member_id)
    pins.reset_member_pin(
        request.actor, member, payload.pin, identity_checked=payload.identity_checked
    )
    return Status(204, None)
