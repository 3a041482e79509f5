"""Reads for checkout: sales as the API, the receipt and the cashier screen show them.

Every read of a tenant's rows goes through `scoped()`: the actor's merchant, and a store-bound
role's own store where the rows belong to a store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.core.dates import local_day
from patron.core.errors import NotFound
from patron.core.settled import settled_then_live
from patron.engine import pricing
from patron.ledger import payments
from patron.ledger import selectors as ledger
from patron.ledger.models import Asset
from patron.ledger.services import quick_balances
from patron.members.models import Member
from patron.members.selectors import shown_mobile
from patron.program.models import Category
from patron.promotions import selectors as promotions
from patron.promotions.codes import display_code
from patron.sales import sql
from patron.sales.models import PastSalesRevision, Refund, Sale, SaleDiscount, SaleLine
from patron.tenancy.actor import Actor
from patron.tenancy.models import Store
from patron.tenancy.selectors import scoped

COUPONS_SHOWN = 12  # on the till's member panel


def sale_for(actor: Actor, sale_id: Any) -> Sale:
    try:
        sale_id = int(sale_id)
    except (TypeError, ValueError):
        raise NotFound("Sale not found") from None
    sale = (
        scoped(Sale.objects.filter(pk=sale_id), actor)
        .select_related("store", "member", "user")
        .first()
    )
    if sale is None:
        raise NotFound("Sale not found")
    return sale


def refund_for_key(actor: Actor, key: str) -> Refund | None:
    """The refund recorded under this idempotency key (the merchant's, whichever store)."""
    return scoped(Refund.objects.filter(idempotency_key=key), actor, store_field=None).first()


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


def _tender(tender) -> dict[str, Any]:
    """A tender asked for (`services.TenderInput`), recorded (SaleTender) or just written."""
    tendered = getattr(tender, "tendered", None)
    change = tendered - tender.amount if tendered is not None else 0
    return {
        "method": tender.method,
        "amount": tender.amount,
        "tendered": tendered,
        "change": change,
    }


def present_quote(
    quote: pricing.Quote, *, member, store, occurred_at, tenders=None
) -> dict[str, Any]:
    """A quote in the shape of API.md §3 (the same shape a committed sale has, minus id).
    `tenders`: those the sale would record (services.settled_tenders)."""
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
        "tenders": [_tender(tender) for tender in tenders or ()],
    }


def _lines(sale: Sale):
    """What commit_sale just wrote, or the lines as stored."""
    recorded = getattr(sale, "recorded_lines", None)
    return recorded if recorded is not None else sale.lines.order_by("position")


def _discounts(sale: Sale):
    recorded = getattr(sale, "recorded_discounts", None)
    return recorded if recorded is not None else sale.discounts.order_by("pk")


def _tenders(sale: Sale):
    recorded = getattr(sale, "recorded_tenders", None)
    return recorded if recorded is not None else sale.tenders.order_by("position")


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
        # Limited promotions the commit went without (API.md §11); not stored with the sale.
        "rejected": [
            {"code": r.code, "reason": r.reason} for r in getattr(sale, "recorded_rejected", ())
        ],
        "points_redeemed": sale.points_redeemed,
        "points_value": sale.points_value,
        "points_earned": sale.points_earned,
        "points_pending": sale.points_pending,
        "stored_value_paid": sale.stored_value_paid,
        "cash_due": sale.cash_due,
        "saved": sale.saved,
        "tenders": [_tender(tender) for tender in _tenders(sale)],
        "staff": sale.user.get_username() if sale.user_id else None,
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
        "tenders": [
            {"method": row.method, "amount": row.amount}
            for row in refund.tenders.order_by("sale_tender__position")
        ],
        "sale_status": refund.sale.status,
        "created_at": refund.created_at,
    }


def recent_sales(actor: Actor, *, member=None, limit: int = 20):
    sales = scoped(Sale.objects.all(), actor)
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


# --- the cashier screen ----------------------------------------------------------------------


def category_codes(actor: Actor) -> list[str]:
    """The merchant's active categories, as a sale line may use them (the program's order)."""
    categories = scoped(Category.objects.filter(is_active=True), actor, store_field=None)
    return list(categories.values_list("code", flat=True))


@dataclass
class CouponRow:
    code: str
    shown: str  # grouped for reading
    name: str
    valid_until: dt.datetime


@dataclass
class MemberPanel:
    """The identified member as the till shows them: balances, tier, usable coupons, and what
    the apps above sales add (`extras`, HTML: tier benefits and progress …)."""

    member: Member
    mobile: str
    tier: Any
    points: int
    stored_value: int
    coupons: list[CouponRow]
    extras: list[str] = field(default_factory=list)


# The till's member card slot: apps above sales (cards) add a section of HTML for the
# identified member from their AppConfig.ready(); sales cannot import them.
MemberCardSection = Callable[[Actor, Member], str]
_member_card_sections: list[MemberCardSection] = []


def add_member_card_section(section: MemberCardSection) -> None:
    if section not in _member_card_sections:  # ready() may run twice in tests
        _member_card_sections.append(section)


def member_panel(actor: Actor, member: Member) -> MemberPanel:
    balances = quick_balances(member)
    available = promotions.member_coupons(member, status="available")[:COUPONS_SHOWN]
    return MemberPanel(
        member=member,
        mobile=shown_mobile(actor, member),
        tier=promotions.member_tier(member),
        points=balances[Asset.POINTS],
        stored_value=balances[Asset.PRINCIPAL] + balances[Asset.BONUS],
        coupons=[
            CouponRow(
                code=coupon.code,
                shown=display_code(coupon.code),
                name=coupon.template.name,
                valid_until=coupon.valid_until,
            )
            for coupon in available
        ],
        extras=[section(actor, member) for section in _member_card_sections],
    )


@dataclass
class Receipt:
    """What the receipt shows besides the sale row."""

    lines: list[SaleLine]
    discounts: list[SaleDiscount]
    refunds: list[dict[str, Any]]
    after: dict[str, Any] | None  # the member's balances right after the sale
    tenders: list[ShownTender]


@dataclass
class ShownTender:
    """A tender in words (微信支付, 现金 …), as the receipt prints it."""

    method: str
    amount: int
    tendered: int | None = None
    change: int = 0

    @property
    def label(self) -> str:
        return payments.label(self.method)


def shown_tenders(rows) -> list[ShownTender]:
    return [
        ShownTender(row["method"], row["amount"], row.get("tendered"), row.get("change", 0))
        for row in rows
    ]


def receipt(sale: Sale) -> Receipt:
    member = sale.member
    refunds = [
        {**present_refund(refund), "by": done_by(refund.user, refund.api_key)}
        for refund in sale.refunds.select_related("user", "api_key").order_by("pk")
    ]
    for refund in refunds:
        refund["shown_tenders"] = shown_tenders(refund["tenders"])
    return Receipt(
        lines=list(sale.lines.order_by("position")),
        discounts=list(sale.discounts.order_by("pk")),
        refunds=refunds,
        after=ledger.member_balances(member, as_of=sale.occurred_at) if member else None,
        tenders=shown_tenders(_tender(tender) for tender in sale.tenders.order_by("position")),
    )


def done_by(user, api_key) -> str:
    """Who recorded a sale or refund, as people read it: the staff's name, the API key's name
    ("API: POS system"), else the system (the command line, the demo)."""
    if user is not None:
        return user.get_full_name() or user.get_username()
    if api_key is not None:
        return _("API: %(name)s") % {"name": api_key.name}
    return _("System")


@dataclass(frozen=True)
class TillDay:
    """Today's figures of one cashier at one store (the till's header)."""

    sales: int  # how many sales
    sold: int  # fen, their totals
    refunded: int  # fen refunded today by this cashier at this store (of any day's sales)

    @property
    def net(self) -> int:
        return self.sold - self.refunded


def till_day(actor: Actor, store: Store) -> TillDay:
    """The sales this cashier recorded at this store today (the merchant's day), net of the
    refunds they recorded there today."""
    since = start_of_today()
    mine = {"user": actor.user, "store": store}
    sold = scoped(Sale.objects.filter(occurred_at__gte=since, **mine), actor).aggregate(
        count=Count("pk"), total=Sum("total")
    )
    refunded = scoped(Refund.objects.filter(created_at__gte=since, **mine), actor).aggregate(
        total=Sum("amount")
    )
    return TillDay(sold["count"], sold["total"] or 0, refunded["total"] or 0)


def refunds_today(actor: Actor, store: Store | None) -> dict[str, int]:
    """How many refunds were recorded today and what they gave back: at `store`, or at every
    store when it is None (a store-bound role: always their own)."""
    refunds = scoped(Refund.objects.filter(created_at__gte=start_of_today()), actor)
    if actor.store_bound is None and store is not None:
        refunds = refunds.filter(store=store)
    figures = refunds.aggregate(count=Count("pk"), amount=Sum("amount"))
    return {"count": figures["count"], "amount": figures["amount"] or 0}


def start_of_today() -> dt.datetime:
    """Midnight in the current time zone (the cashier pages render in the merchant's)."""
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


TODAYS_ORDERING = ("-occurred_at", "-id")


def todays_sales(actor: Actor, store: Store | None) -> QuerySet[Sale]:
    """Today's sales, newest first: a store-bound role's own store's, else `store`'s, or every
    store's when it is None."""
    sales = scoped(Sale.objects.filter(occurred_at__gte=start_of_today()), actor)
    if actor.store_bound is None and store is not None:
        sales = sales.filter(store=store)
    return sales.select_related("store", "member", "user", "api_key").order_by(*TODAYS_ORDERING)


def sales_figures(sales: QuerySet[Sale]) -> dict[str, int | None]:
    """How many, and the totals paid in all, in cash and by card (None when there are none)."""
    return sales.aggregate(
        count=Count("pk"), total=Sum("total"), cash=Sum("cash_due"), card=Sum("stored_value_paid")
    )


# --- sales per day (the console home) --------------------------------------------------------


def daily_sales(actor: Actor, since: dt.datetime, zone: dt.tzinfo) -> list[dict[str, Any]]:
    """Sales net of refunds per store and local day (in `zone`) from `since`: rows of
    {store, day, sales, member_sales} in fen. A refund counts on the day it was made, against
    the store of the sale it refunds; member sales are those of sales with a member."""

    def sums(chosen: QuerySet[Sale]) -> list[dict[str, Any]]:
        return list(
            chosen.annotate(day=local_day("occurred_at", zone, since))
            .values("store_id", "day")
            .annotate(sales=Sum("total"), member_sales=Sum("total", filter=Q(member__isnull=False)))
            .order_by()
        )

    # Sales are not edited but for a walk-in's sale given to a member, which bumps the
    # merchant's revision: the days before yesterday are summed once a day and revision.
    revision = PastSalesRevision.objects.filter(merchant=actor.merchant).values_list(
        "revision", flat=True
    )
    sold = settled_then_live(
        scoped(Sale.objects.filter(occurred_at__gte=since), actor),
        "occurred_at",
        zone,
        timezone.now().astimezone(zone).date(),
        sums,
        version=revision.first() or 0,
    )
    refunded = (
        scoped(Refund.objects.filter(created_at__gte=since), actor, store_field="sale__store")
        .annotate(day=local_day("created_at", zone, since))
        .values("sale__store_id", "day")
        .annotate(
            sales=Sum("amount"), member_sales=Sum("amount", filter=Q(sale__member__isnull=False))
        )
    )
    rows: dict[tuple[int, dt.date], dict[str, Any]] = {}
    for totals, sign, store_key in ((sold, 1, "store_id"), (refunded, -1, "sale__store_id")):
        for found in totals:
            key = (found[store_key], found["day"])
            into = rows.setdefault(
                key, {"store": key[0], "day": key[1], "sales": 0, "member_sales": 0}
            )
            into["sales"] += sign * (found["sales"] or 0)
            into["member_sales"] += sign * (found["member_sales"] or 0)
    return list(rows.values())


def best_selling_skus(merchant, store, since: dt.datetime, limit: int) -> list[str]:
    """The store's SKUs by units sold since `since`, most first (the till's favourites)."""
    rows = (
        SaleLine.objects.filter(merchant=merchant, store=store, occurred_at__gte=since, gift=False)
        .values("sku")
        .annotate(units=Sum("quantity"))
        .order_by("-units", "sku")[:limit]
    )
    return [row["sku"] for row in rows]
