"""Paid memberships and the member's PIN in the API (API.md §7; docs/memberships.md,
docs/cards-pin.md)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from patron.cards import memberships, pins
from patron.cards.models import Membership
from patron.core.apitypes import PathId
from patron.core.idempotency import key_for
from patron.core.problems import Problem
from patron.members.selectors import member_for
from patron.promotions.selectors import member_tier_code

router = Router(tags=["cards"])
ERRORS = {401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem, 423: Problem}
PIN_FIELD = Field(..., max_length=12, description="Six digits, not one digit repeated")


class MembershipIn(Schema):
    product: str = Field(..., min_length=1, max_length=32, description="A card product code")
    payment_method: str | None = Field(None, max_length=12, description="cash (default) …")


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


class RefundIn(Schema):
    payment_method: str | None = Field(None, max_length=12)


class RefundOut(Schema):
    membership: MembershipOut
    amount: int
    receipt_no: str | None
    tier: str | None


class PinIn(Schema):
    pin: str = PIN_FIELD


class PinChangeIn(Schema):
    old_pin: str = Field(..., max_length=12)
    pin: str = PIN_FIELD


class PinResetIn(Schema):
    pin: str = PIN_FIELD
    identity_checked: bool = False


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
    response={200: RefundOut, **ERRORS},
    summary="Refund a paid membership (the unused days, per the product's rule)",
)
def refund(request: HttpRequest, member_id: PathId, membership_id: PathId, payload: RefundIn):
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
