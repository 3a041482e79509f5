"""The card API (API.md §7): issue, look up, report lost, replace, exchange, bind, refund."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Path, Router, Status

from patron.cards import selectors, services
from patron.cards.models import Card
from patron.cards.schemas import (
    CARD_NO,
    CardBindIn,
    CardDetailOut,
    CardExchangeIn,
    CardIssuedOut,
    CardIssueIn,
    CardLostIn,
    CardRefundIn,
    CardRefundOut,
    CardReplacedOut,
    CardReplaceIn,
    CardStatusOut,
)
from patron.core.errors import NotFound
from patron.core.idempotency import key_for
from patron.core.problems import Problem
from patron.members.selectors import member_for
from patron.members.validation import mask_mobile
from patron.tenancy.selectors import acting_for, store_by_code

router = Router(tags=["cards"])
ERRORS = {401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem, 423: Problem}
CardNo = Path[Annotated[str, Field(pattern=CARD_NO, description="Card number")]]


def issued(card: Card) -> dict[str, Any]:
    return {
        "card_no": card.card_no,
        "product": card.product.code if card.product_id else None,
        "status": card.status,
        "fee_paid": card.fee_paid,
        "fee_waived": card.fee_waived,
        "valid_until": card.valid_until,
        "member": card.member_id,
    }


def replaced(card: Card) -> dict[str, Any]:
    """The new card, with the number it replaces and the replacement fee this step took."""
    return {
        **issued(card),
        "replaces": card.replaces.card_no,
        "replace_fee_paid": selectors.replace_fee_paid(card),
    }


def present_card(card: Card) -> dict[str, Any]:
    member = card.member
    return {
        "card_no": card.card_no,
        "member": {"id": member.pk, "name": member.name, "mobile": mask_mobile(member.mobile)},
        "product": card.product.code if card.product_id else None,
        "product_name": card.product.name if card.product_id else None,
        "status": card.status,
        "status_label": str(card.get_status_display()),
        "physical_id": card.physical_id,
        "issued_at": card.issued_at,
        "valid_until": card.valid_until,
        "lost_at": card.lost_at,
        "closed_at": card.closed_at,
        "replaced_by": card.replaced_by.card_no if card.replaced_by_id else None,
        "fee_paid": card.fee_paid,
        "fee_waived": card.fee_waived,
        "history": [
            {
                "kind": event.kind,
                "label": str(event.get_kind_display()),
                "at": event.created_at,
                "store": event.store.code if event.store_id else None,
                "user": event.user.get_username() if event.user_id else None,
                "channel": event.channel,
                "detail": {k: v for k, v in event.detail.items() if k != "key"},
            }
            for event in selectors.card_history(card)
        ],
    }


@router.post("/cards", response={201: CardIssuedOut, **ERRORS}, summary="Issue a card to a member")
def issue_card(request: HttpRequest, payload: CardIssueIn):
    member = member_for(request.actor, payload.member)
    store = store_by_code(request.actor.merchant, payload.store) if payload.store else None
    actor = acting_for(request.actor, payload.staff, store)
    card = services.issue_card(
        actor,
        member,
        services.IssueRequest(
            product=payload.product,
            physical_id=payload.physical_id or "",
            payment_method=payload.payment_method,
            topup=payload.topup,
            store=store,
        ),
        key=key_for(request, "card-issue"),
    )
    return Status(201, issued(card))


@router.get(
    "/cards/{card_no}", response={200: CardDetailOut, **ERRORS}, summary="A card and its history"
)
def get_card(request: HttpRequest, card_no: CardNo):
    card = selectors.card_for_number(request.actor, card_no)
    if card is None:
        raise NotFound("Card not found")
    return present_card(card)


@router.post(
    "/cards/{card_no}/report-lost",
    response={200: CardStatusOut, **ERRORS},
    summary="Report a card lost (freezes stored value and points at once)",
)
def report_lost(request: HttpRequest, card_no: CardNo, payload: CardLostIn):
    card = services.report_lost(
        request.actor, card_no, reason=payload.reason or "", key=key_for(request, "card-lost")
    )
    return {"card_no": card.card_no, "status": card.status}


@router.post(
    "/cards/{card_no}/replace",
    response={201: CardReplacedOut, **ERRORS},
    summary="Replace a lost card with a new number",
)
def replace_card(request: HttpRequest, card_no: CardNo, payload: CardReplaceIn):
    card = services.replace_card(
        request.actor,
        card_no,
        physical_id=payload.physical_id,
        payment_method=payload.payment_method,
        key=key_for(request, "card-replace"),
    )
    return Status(201, replaced(card))


@router.post(
    "/cards/{card_no}/exchange",
    response={201: CardReplacedOut, **ERRORS},
    summary="Exchange a damaged card for a new number",
)
def exchange_card(request: HttpRequest, card_no: CardNo, payload: CardExchangeIn):
    card = services.replace_card(
        request.actor,
        card_no,
        physical_id=payload.physical_id,
        payment_method=payload.payment_method,
        damaged=True,
        key=key_for(request, "card-exchange"),
    )
    return Status(201, replaced(card))


@router.post(
    "/cards/{card_no}/bind",
    response={200: CardStatusOut, **ERRORS},
    summary="Bind a physical card (magstripe, barcode or NFC id)",
)
def bind_card(request: HttpRequest, card_no: CardNo, payload: CardBindIn):
    card = services.bind_physical_id(
        request.actor, card_no, payload.physical_id, key=key_for(request, "card-bind")
    )
    return {"card_no": card.card_no, "status": card.status}


@router.post(
    "/cards/{card_no}/refund",
    response={200: CardRefundOut, **ERRORS},
    summary="Refund the card's principal and close it (identity checked, PIN)",
)
def refund_card(request: HttpRequest, card_no: CardNo, payload: CardRefundIn):
    result = services.refund_card(
        request.actor,
        card_no,
        identity_checked=payload.identity_checked,
        pin=payload.pin,
        payment_method=payload.payment_method,
        key=key_for(request, "card-refund"),
    )
    return {
        "card_no": result.card.card_no,
        "principal_returned": result.principal_returned,
        "bonus_forfeited": result.bonus_forfeited,
        "bonus_returned": result.bonus_returned,
        "fee_returned": result.fee_returned,
        "status": result.card.status,
    }
