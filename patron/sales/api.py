"""Checkout endpoints (API.md §3): quote, commit, refund; member identification and PIN."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status

from patron.core.apitypes import PathId
from patron.core.idempotency import key_for
from patron.core.problems import Problem
from patron.ledger.models import Asset
from patron.ledger.services import quick_balances
from patron.members.selectors import member_for, shown_mobile
from patron.promotions.selectors import member_tier_code
from patron.sales import selectors, services
from patron.sales.schemas import (
    IdentifiedOut,
    QrTokenOut,
    RefundIn,
    RefundOut,
    SaleIn,
    SaleOut,
)

router = Router(tags=["sales"])
# What a till scans or types to name a member (a QR token is about 70 characters).
MemberCode = Query[str, {"min_length": 1, "max_length": 128}]
ERRORS = {401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem, 423: Problem}


def sale_request(payload: SaleIn) -> services.SaleRequest:
    return services.SaleRequest(
        lines=[services.LineInput(**line.model_dump()) for line in payload.lines],
        member=payload.member,
        store=payload.store,
        occurred_at=payload.occurred_at,
        codes=list(payload.codes),
        points_to_redeem=payload.points_to_redeem,
        stored_value=payload.stored_value,
        pin=payload.pin,
        tenders=None
        if payload.tenders is None
        else [services.TenderInput(**tender.model_dump()) for tender in payload.tenders],
        staff=payload.staff,
    )


@router.post("/sales/quote", response={200: SaleOut, **ERRORS}, summary="Price a basket")
def quote_sale(request: HttpRequest, payload: SaleIn):
    """Everything a committed sale would be, without writing anything."""
    priced = services.price(request.actor, sale_request(payload))
    services.ensure_payable(priced)
    services.ensure_tenders_add_up(priced)
    return selectors.present_quote(
        priced.quote,
        member=priced.member,
        store=priced.store,
        occurred_at=priced.occurred_at,
        tenders=services.settled_tenders(priced),
    )


@router.post("/sales", response={201: SaleOut, **ERRORS}, summary="Commit a sale")
def create_sale(request: HttpRequest, payload: SaleIn):
    sale = services.commit_sale(request.actor, sale_request(payload), key=key_for(request, "sale"))
    return Status(201, selectors.present_sale(sale))


@router.get("/sales/{sale_id}", response={200: SaleOut, **ERRORS}, summary="One sale")
def get_sale(request: HttpRequest, sale_id: PathId):
    return selectors.present_sale(selectors.sale_for(request.actor, sale_id))


@router.post(
    "/sales/{sale_id}/refunds", response={201: RefundOut, **ERRORS}, summary="Refund a sale"
)
def create_refund(request: HttpRequest, sale_id: PathId, payload: RefundIn):
    sale = selectors.sale_for(request.actor, sale_id)
    ask = services.RefundAsk(
        lines=tuple((line.sku, line.quantity) for line in payload.lines),
        all=payload.all,
        reason=payload.reason,
    )
    refund = services.refund_sale(request.actor, sale, ask, key=key_for(request, "refund"))
    return Status(201, selectors.present_refund(refund))


@router.post(
    "/members/{member_id}/qr-token",
    response={201: QrTokenOut, **ERRORS},
    summary="Mint a member QR token (valid 60 s)",
)
def mint_qr_token(request: HttpRequest, member_id: PathId):
    member = member_for(request.actor, member_id)
    token, expires_at = services.member_qr_token(request.actor, member)
    return Status(201, {"token": token, "expires_at": expires_at})


# PUT /members/{id}/pin and the PIN's change and reset are in patron/cards/membership_api.py:
# the cards app records each as a card event (sales knows no cards).


@router.get(
    "/identify",
    response={200: IdentifiedOut, **ERRORS},
    summary="Find the member by mobile, card number or member QR token",
)
def identify(request: HttpRequest, code: MemberCode):
    member = services.identify_member(request.actor, code)
    balances = quick_balances(member)
    return {
        "id": member.pk,
        "card_no": member.card_no,
        "name": member.name,
        "mobile": shown_mobile(request.actor, member),
        "tier": member_tier_code(member),
        "points": balances[Asset.POINTS],
        "stored_value": balances[Asset.PRINCIPAL] + balances[Asset.BONUS],
    }
