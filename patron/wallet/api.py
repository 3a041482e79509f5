from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from patron.core.apitypes import LocalMoment, PathId
from patron.core.counting import row_count
from patron.core.idempotency import key_for
from patron.core.keyset import keyset_page, page_cursor
from patron.core.problems import Problem
from patron.ledger import payments, selectors, services
from patron.ledger.models import Asset
from patron.members.selectors import member_for
from patron.tenancy.selectors import acting_for, store_by_code
from patron.wallet import services as wallet
from patron.wallet.schemas import (
    AdjustmentIn,
    AdjustmentOut,
    BalancesOut,
    EntryPage,
    TopUpIn,
    TopUpOut,
)

router = Router(tags=["ledger"])
ERRORS = {401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}


def stored_value(balances: dict) -> dict:
    return balances["stored_value"]


@router.post("/topups", response={201: TopUpOut, **ERRORS}, summary="Top up stored value")
def create_topup(request: HttpRequest, payload: TopUpIn):
    member = member_for(request.actor, payload.member)
    store = store_by_code(request.actor.merchant, payload.store) if payload.store else None
    actor = acting_for(request.actor, payload.staff, store)
    txn = wallet.top_up(
        actor,
        member,
        payload.amount,
        key=key_for(request, "topup"),
        payment_method=payments.canonical(payload.payment_method),
        context=services.Context(store=store or actor.store_bound),
    )
    credited = {e.asset: e.amount for e in txn.entries.filter(member=member)}
    balances = selectors.member_balances(member)
    return Status(
        201,
        {
            "id": txn.pk,
            "member": member.pk,
            "principal": credited.get(Asset.PRINCIPAL, 0),
            "bonus": credited.get(Asset.BONUS, 0),
            "balance": balances["stored_value"]["total"],
            "stored_value": stored_value(balances),
            "occurred_at": txn.occurred_at,
        },
    )


@router.get(
    "/members/{member_id}/balances",
    response={200: BalancesOut, **ERRORS},
    summary="Points and stored value of a member (now, in the past or projected)",
)
def member_balances(request: HttpRequest, member_id: PathId, as_of: LocalMoment | None = None):
    member = member_for(request.actor, member_id)
    if as_of is not None and as_of.tzinfo is None:
        from zoneinfo import ZoneInfo

        as_of = as_of.replace(tzinfo=ZoneInfo(request.actor.merchant.timezone))
    return selectors.member_balances(member, as_of)


class LedgerFilters(Schema):
    asset: str = Field(
        "",
        pattern=r"^(|points|stored_value|stored_value\.principal"
        r"|stored_value\.bonus)$",
    )
    page: int = Field(1, ge=1, le=100000)
    page_size: int = Field(50, ge=1, le=200)
    cursor: str = Field(
        "",
        max_length=500,
        description="`next_cursor` of the page before: the page after it (`page` is then ignored)",
    )


@router.get(
    "/members/{member_id}/ledger",
    response={200: EntryPage, **ERRORS},
    summary="The member's ledger entries, newest first",
)
def member_ledger(request: HttpRequest, member_id: PathId, filters: Query[LedgerFilters]):
    member = member_for(request.actor, member_id)
    entries = selectors.member_entries(member, filters.asset or None)
    items, next_cursor = ledger_page(entries, filters)
    count = row_count(entries)
    return {
        "items": [
            {
                "id": e.pk,
                "transaction": e.transaction_id,
                "kind": e.transaction.kind,
                "asset": e.asset,
                "amount": e.amount,
                "occurred_at": e.occurred_at,
                "store": e.transaction.store.code if e.transaction.store_id else None,
                "reason": e.transaction.reason,
                "source": e.transaction.source,
            }
            for e in items
        ],
        "count": count.value,
        "count_exact": count.exact,
        "page": filters.page,
        "page_size": filters.page_size,
        "next_cursor": next_cursor,
    }


def ledger_page(entries: QuerySet, filters: LedgerFilters) -> tuple[list, str | None]:
    """The entries a cursor (or a page number) asks for and the cursor of the page after.
    A member's history is short enough for `page` to stay, but a cursor never re-reads the
    pages before it."""
    ordering = selectors.MEMBER_ENTRIES_ORDERING
    if filters.cursor or filters.page == 1:
        page = keyset_page(entries, ordering, filters.page_size, filters.cursor or None)
        return page.items, page.next_cursor
    start = (filters.page - 1) * filters.page_size
    fetched = list(entries[start : start + filters.page_size + 1])
    items = fetched[: filters.page_size]
    more = len(fetched) > filters.page_size
    next_cursor = page_cursor(items[-1], ordering) if more else None
    return items, next_cursor


@router.post(
    "/members/{member_id}/points/adjustments",
    response={201: AdjustmentOut, **ERRORS},
    summary="Manually add or take away points (reason required, audited)",
)
def adjust_points(request: HttpRequest, member_id: PathId, payload: AdjustmentIn):
    actor = request.actor
    member = member_for(actor, member_id)
    txn = services.adjust_points(
        actor, member, payload.points, reason=payload.reason, key=key_for(request, "adjust")
    )
    return Status(
        201,
        {
            "id": txn.pk,
            "member": member.pk,
            "points": payload.points,
            "reason": txn.reason,
            "available": selectors.member_balances(member)["points"]["available"],
        },
    )
