"""Reads for checkout: sales as the API, the receipt and the cashier screen show them."""

from __future__ import annotations

from typing import Any

from patron.core.errors import NotFound
from patron.engine import pricing
from patron.sales import sql
from patron.sales.models import Refund, Sale
from patron.tenancy.actor import Actor


def sale_for(actor: Actor, sale_id: Any) -> Sale:
    try:
        sale_id = int(sale_id)
    except (TypeError, ValueError):
        raise NotFound("Sale not found") from None
    sales = Sale.objects.filter(merchant=actor.merchant, pk=sale_id)
    if actor.store_bound is not None:
        sales = sales.filter(store=actor.store_bound)
    sale = sales.select_related("store", "member").first()
    if sale is None:
        raise NotFound("Sale not found")
    return sale


def _line(line, *, refunded: int) -> dict[str, Any]:
    """A priced line (engine), a recorded one (SaleLine) or a row commit_sale wrote: all carry
    the engine's priced fields."""
    row = dict(zip(sql.PRICED_FIELDS, sql.priced_values(line), strict=True))
    row["refunded_quantity"] = refunded
    return row


def _applied(applied) -> dict[str, Any]:
    return {
        "code": applied.code,
        "kind": applied.kind,
        "name": applied.name,
        "benefit": applied.benefit,
        "amount": applied.amount,
    }


def present_quote(quote: pricing.Quote, *, member, store, occurred_at) -> dict[str, Any]:
    """A quote in the shape of API.md §3 (the same shape a committed sale has, minus id)."""
    return {
        "id": None,
        "member": member.pk if member is not None else None,
        "store": store.code,
        "occurred_at": occurred_at,
        "status": None,
        "subtotal": quote.subtotal,
        "member_discount": quote.member_discount,
        "discount": quote.discount,
        "total": quote.total,
        "lines": [_line(line, refunded=0) for line in quote.lines],
        "applied": [_applied(a) for a in quote.applied],
        "rejected": [{"code": r.code, "reason": r.reason} for r in quote.rejected],
        "points_redeemed": quote.points_redeemed,
        "points_value": quote.points_value,
        "points_earned": quote.points_earned,
        "points_pending": False,
        "stored_value_paid": quote.stored_value_paid,
        "cash_due": quote.cash_due,
        "saved": quote.saved,
    }


def _lines(sale: Sale):
    """What commit_sale just wrote, or the lines as stored."""
    recorded = getattr(sale, "recorded_lines", None)
    return recorded if recorded is not None else sale.lines.order_by("position")


def _discounts(sale: Sale):
    recorded = getattr(sale, "recorded_discounts", None)
    return recorded if recorded is not None else sale.discounts.order_by("pk")


def present_sale(sale: Sale) -> dict[str, Any]:
    """A committed sale as recorded (a retried request gets exactly this back)."""
    return {
        "id": sale.pk,
        "member": sale.member_id,
        "store": sale.store.code,
        "occurred_at": sale.occurred_at,
        "status": sale.status,
        "subtotal": sale.subtotal,
        "member_discount": sale.member_discount,
        "discount": sale.discount,
        "total": sale.total,
        "lines": [_line(line, refunded=line.refunded_quantity) for line in _lines(sale)],
        "applied": [_applied(d) for d in _discounts(sale)],
        "rejected": [],
        "points_redeemed": sale.points_redeemed,
        "points_value": sale.points_value,
        "points_earned": sale.points_earned,
        "points_pending": sale.points_pending,
        "stored_value_paid": sale.stored_value_paid,
        "cash_due": sale.cash_due,
        "saved": sale.saved,
    }


def present_refund(refund: Refund) -> dict[str, Any]:
    return {
        "id": refund.pk,
        "sale": refund.sale_id,
        "amount": refund.amount,
        "cash_refunded": refund.cash_refunded,
        "stored_value_returned": refund.stored_value_returned,
        "points_returned": refund.points_returned,
        "points_reversed": refund.points_reversed,
        "points_shortfall": refund.points_shortfall,
        "coupons_returned": refund.coupons_returned,
        "lines": [
            {"sku": row.sale_line.sku, "quantity": row.quantity, "amount": row.amount}
            for row in refund.lines.select_related("sale_line").order_by("pk")
        ],
        "sale_status": refund.sale.status,
        "created_at": refund.created_at,
    }


def recent_sales(actor: Actor, *, member=None, limit: int = 20):
    sales = Sale.objects.filter(merchant=actor.merchant)
    if actor.store_bound is not None:
        sales = sales.filter(store=actor.store_bound)
    if member is not None:
        sales = sales.filter(member=member)
    return sales.select_related("store", "member").order_by("-occurred_at", "-pk")[:limit]


STATS_FIELDS = (
    "total_spend",
    "visits",
    "average_ticket",
    "first_visit_at",
    "last_visit_at",
    "refunds",
    "points_earned",
    "saved",
)


def member_stats(member) -> dict[str, Any]:
    """The member's running purchase figures (zeros before the first sale)."""
    from patron.sales.models import MemberStats

    row = MemberStats.objects.filter(member=member).values(*STATS_FIELDS).first()
    if row is None:
        return {name: (None if name.endswith("_at") else 0) for name in STATS_FIELDS}
    return row
