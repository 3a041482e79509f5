"""Reads for the shift close: where a cashier's open shift starts and what it took in.

Every figure is summed by the database from the rows the shift covers: the cashier's sales and
refunds at the store (their tenders), their top-ups (the ledger's top-up transactions, by
payment method) and the points and stored value their sales used. `figures` is what the close
page shows and what closing freezes; tests compare it with hand-worked numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy

from patron.cards.models import CardPayment
from patron.core.dates import start_of_day
from patron.core.errors import NotFound
from patron.ledger import payments
from patron.ledger.models import Asset, Entry, Transaction
from patron.sales.models import Refund, RefundTender, Sale, SaleTender
from patron.shifts.models import Shift
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role, Store
from patron.tenancy.permissions import merchant_zone
from patron.tenancy.selectors import scoped


@dataclass
class TenderFigures:
    method: str
    sales: int = 0
    refunds: int = 0
    topups: int = 0  # filled in by Figures.tender_rows
    cards: int = 0  # card fees and paid memberships less their refunds (Figures.tender_rows)

    @property
    def net(self) -> int:
        return self.sales - self.refunds

    @property
    def expected(self) -> int:
        """What the method should hold at the close: net sales, top-ups and card money."""
        return self.net + self.topups + self.cards

    @property
    def label(self) -> str:
        return payments.label(self.method)


@dataclass
class Figures:
    """What a shift took in (fen; points in points)."""

    sales_count: int = 0
    refunds_count: int = 0
    tenders: dict[str, TenderFigures] = field(default_factory=dict)  # every method, in order
    topups: dict[str, int] = field(default_factory=dict)  # every method, in order
    topups_count: int = 0
    points_redeemed: int = 0
    points_value: int = 0
    points_returned: int = 0
    stored_value_paid: int = 0
    stored_value_returned: int = 0
    first_at: dt.datetime | None = None  # the first sale, refund or top-up counted
    # Card fees, replacement fees and paid memberships (refunds negative): {group: {method: fen}}
    card_payments: dict[str, dict[str, int]] = field(default_factory=dict)
    card_payments_count: int = 0

    @property
    def cash_expected(self) -> int:
        """What the drawer should hold: cash sales less cash refunds, plus cash top-ups and
        cash card money."""
        return (
            self.tenders[payments.CASH].net
            + self.topups[payments.CASH]
            + self.card_money(payments.CASH)
        )

    def card_money(self, method: str) -> int:
        return sum(by_method.get(method, 0) for by_method in self.card_payments.values())

    def card_lines(self) -> list[CardLine]:
        """One line per kind of card money taken (开卡费, 补卡费, 付费会员), empty ones left out."""
        lines = []
        for group, label in card_groups():
            by_method = self.card_payments.get(group, {})
            if any(by_method.values()):
                lines.append(CardLine(group, label, sum(by_method.values()), by_method))
        return lines

    @property
    def topups_total(self) -> int:
        return sum(self.topups.values())

    def tender_rows(self) -> list[TenderFigures]:
        """One row per method, in the till's order, with its top-ups and card money."""
        return [
            replace(self.tenders[method], topups=self.topups[method], cards=self.card_money(method))
            for method in payments.METHODS
        ]


@dataclass(frozen=True)
class CardLine:
    group: str
    label: Any
    total: int
    by_method: dict[str, int]

    def methods(self) -> list[tuple[str, int]]:
        return [
            (payments.label(m), self.by_method[m])
            for m in payments.METHODS
            if self.by_method.get(m)
        ]


# CardPayment kinds counted together on the close page and the slip (a refund with its kind).
CARD_GROUPS = (
    ("card_fee", gettext_lazy("Card fees")),
    ("replace_fee", gettext_lazy("Replacement fees")),
    ("membership", gettext_lazy("Paid memberships")),
)
CARD_GROUP_OF = {
    CardPayment.Kind.CARD_FEE: "card_fee",
    CardPayment.Kind.FEE_REFUND: "card_fee",
    CardPayment.Kind.REPLACE_FEE: "replace_fee",
    CardPayment.Kind.MEMBERSHIP: "membership",
    CardPayment.Kind.MEMBERSHIP_REFUND: "membership",
}


# Money other apps take at the counter (the points mall's cash part), counted with the card
# money: (group, label, reader); reader(merchant, store, user, start, end) gives
# ({method: fen}, count, first taken at). Registered by the apps above (add_takings).
TAKINGS: list[tuple[str, Any, Callable[..., tuple[dict[str, int], int, Any]]]] = []


def add_takings(group: str, label: Any, reader: Callable[..., Any]) -> None:
    """Let an app above count what it took by tender in the cashier's shift."""
    if all(known != group for known, _label, _reader in TAKINGS):
        TAKINGS.append((group, label, reader))


def card_groups() -> tuple[tuple[str, Any], ...]:
    return CARD_GROUPS + tuple((group, label) for group, label, _reader in TAKINGS)


@dataclass(frozen=True)
class Window:
    """The open shift of one cashier at one store: what is counted from `started_at` on."""

    user: Any
    store: Store
    started_at: dt.datetime
    explicit: Shift | None = None  # the row of a shift opened by hand
    last_closed: Shift | None = None


def start_of_merchant_day(merchant, now: dt.datetime | None = None) -> dt.datetime:
    zone = merchant_zone(merchant.timezone)
    day = timezone.localtime(now or timezone.now(), zone).date()
    return start_of_day(day, zone)


def open_window(actor: Actor, user, store: Store, now: dt.datetime | None = None) -> Window:
    """Where `user`'s open shift at `store` starts: an explicit open, else the later of the
    merchant's start of day and the user's last close there (a shift is at most a day)."""
    mine = Shift.objects.filter(merchant=actor.merchant, user=user, store=store)
    explicit = mine.filter(status=Shift.Status.OPEN).order_by("-started_at").first()
    last_closed = mine.filter(status=Shift.Status.CLOSED).order_by("-closed_at").first()
    if explicit is not None:
        return Window(user, store, explicit.started_at, explicit, last_closed)
    start = start_of_merchant_day(actor.merchant, now)
    if last_closed is not None and last_closed.closed_at > start:
        start = last_closed.closed_at
    return Window(user, store, start, None, last_closed)


def _between(rows: QuerySet, column: str, start: dt.datetime, end: dt.datetime | None):
    rows = rows.filter(**{f"{column}__gte": start})
    return rows.filter(**{f"{column}__lt": end}) if end is not None else rows


def figures(
    merchant, store: Store, user, start: dt.datetime, end: dt.datetime | None = None
) -> Figures:
    """What `user` took in at `store` from `start` (inclusive) to `end` (exclusive; None: now),
    by the time each sale, refund or top-up was recorded."""
    sales = _between(
        Sale.objects.filter(merchant=merchant, store=store, user=user), "created_at", start, end
    )
    refunds = _between(
        Refund.objects.filter(merchant=merchant, store=store, user=user), "created_at", start, end
    )
    topups = _between(
        Transaction.objects.filter(
            merchant=merchant, store=store, user=user, kind=Transaction.Kind.TOPUP
        ),
        "created_at",
        start,
        end,
    )
    card_payments = _between(
        CardPayment.objects.filter(merchant=merchant, store=store, user=user),
        "created_at",
        start,
        end,
    )
    result = Figures(
        tenders={method: TenderFigures(method) for method in payments.METHODS},
        topups=dict.fromkeys(payments.METHODS, 0),
    )
    _sales_figures(result, sales)
    _refund_figures(result, refunds)
    _topup_figures(result, topups)
    _card_figures(result, card_payments)
    firsts = [
        rows.order_by("created_at").values_list("created_at", flat=True).first()
        for rows in (sales, refunds, topups, card_payments)
    ]
    for group, _label, reader in TAKINGS:
        by_method, count, first = reader(merchant, store, user, start, end)
        result.card_payments[group] = {m: by_method.get(m, 0) for m in payments.METHODS}
        result.card_payments_count += count
        firsts.append(first)
    result.first_at = min((first for first in firsts if first is not None), default=None)
    return result


def _sales_figures(result: Figures, sales: QuerySet[Sale]) -> None:
    totals = sales.aggregate(
        count=Count("pk"),
        points=Sum("points_redeemed"),
        points_value=Sum("points_value"),
        stored_value=Sum("stored_value_paid"),
    )
    result.sales_count = totals["count"]
    result.points_redeemed = totals["points"] or 0
    result.points_value = totals["points_value"] or 0
    result.stored_value_paid = totals["stored_value"] or 0
    paid = SaleTender.objects.filter(sale__in=sales).values("method").annotate(total=Sum("amount"))
    for row in paid:
        result.tenders[payments.canonical(row["method"])].sales += row["total"]


def _refund_figures(result: Figures, refunds: QuerySet[Refund]) -> None:
    totals = refunds.aggregate(
        count=Count("pk"),
        points=Sum("points_returned"),
        stored_value=Sum("stored_value_returned"),
    )
    result.refunds_count = totals["count"]
    result.points_returned = totals["points"] or 0
    result.stored_value_returned = totals["stored_value"] or 0
    back = (
        RefundTender.objects.filter(refund__in=refunds)
        .values("method")
        .annotate(total=Sum("amount"))
    )
    for row in back:
        result.tenders[payments.canonical(row["method"])].refunds += row["total"]


def _topup_figures(result: Figures, topups: QuerySet[Transaction]) -> None:
    # What the member paid is the principal credited to them; the bonus is the merchant's gift.
    paid = (
        Entry.objects.filter(
            transaction__in=topups, asset=Asset.PRINCIPAL, member__isnull=False, amount__gt=0
        )
        .values("transaction__reason")
        .annotate(total=Sum("amount"), count=Count("transaction", distinct=True))
    )
    for row in paid:
        reason = row["transaction__reason"]
        method = payments.canonical(reason) if payments.is_known(reason) else payments.OTHER
        result.topups[method] += row["total"]
        result.topups_count += row["count"]


def _card_figures(result: Figures, rows: QuerySet[CardPayment]) -> None:
    result.card_payments = {group: dict.fromkeys(payments.METHODS, 0) for group, _ in CARD_GROUPS}
    for row in rows.values("kind", "method").annotate(total=Sum("amount"), count=Count("pk")):
        group = CARD_GROUP_OF.get(row["kind"])
        if group is None:
            continue
        method = payments.canonical(row["method"])
        method = method if method in payments.METHODS else payments.OTHER
        result.card_payments[group][method] += row["total"]
        result.card_payments_count += row["count"]


def frozen(shift: Shift) -> Figures:
    """A closed shift's figures as they were frozen."""
    result = Figures(
        sales_count=shift.sales_count,
        refunds_count=shift.refunds_count,
        tenders={
            method: TenderFigures(
                method,
                shift.tenders.get(method, {}).get("sales", 0),
                shift.tenders.get(method, {}).get("refunds", 0),
            )
            for method in payments.METHODS
        },
        topups={method: shift.topups.get(method, 0) for method in payments.METHODS},
        topups_count=shift.topups_count,
        points_redeemed=shift.points_redeemed,
        points_value=shift.points_value,
        points_returned=shift.points_returned,
        stored_value_paid=shift.stored_value_paid,
        stored_value_returned=shift.stored_value_returned,
        first_at=shift.opened_at,
        card_payments={
            group: dict(by_method)
            for group, by_method in shift.card_payments.get("groups", {}).items()
        },
        card_payments_count=shift.card_payments.get("count", 0),
    )
    return result


# --- who sees which shifts -------------------------------------------------------------------


def visible_shifts(actor: Actor) -> QuerySet[Shift]:
    """HQ: every store's; a store manager: their store's; a cashier: their own."""
    shifts = scoped(Shift.objects.all(), actor)
    if actor.role == Role.CASHIER:
        shifts = shifts.filter(user=actor.user)
    elif actor.role not in (Role.HQ_ADMIN, Role.STORE_MANAGER) and actor.staff is not None:
        shifts = shifts.none()
    return shifts.select_related("store", "user")


def closed_shifts(actor: Actor, store: Store | None = None) -> QuerySet[Shift]:
    shifts = visible_shifts(actor).filter(status=Shift.Status.CLOSED)
    if store is not None:
        shifts = shifts.filter(store=store)
    return shifts.order_by("-closed_at", "-pk")


def shift_for(actor: Actor, pk: Any) -> Shift:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("Shift not found") from None
    shift = visible_shifts(actor).filter(pk=pk).first()
    if shift is None:
        raise NotFound("Shift not found")
    return shift


def has_activity(result: Figures) -> bool:
    return bool(
        result.sales_count
        or result.refunds_count
        or result.topups_count
        or result.card_payments_count
    )
