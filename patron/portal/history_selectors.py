"""Reads of /m/history and /m/messages: the member's own purchases, refunds, top-ups and
points movements as one timeline, a receipt, and the inbox (issue 18 §4).

Every query starts from the logged-in member, so nothing of another member can be reached: the
views pass `request.member` and nothing taken from the URL but a signed receipt reference.
The timeline is one UNION of (kind, id, time) rows so it pages in the database; the rows of a
page are then read with one query per kind.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.core import signing
from django.core.paginator import Page, Paginator
from django.db.models import CharField, Exists, F, OuterRef, QuerySet, Sum, Value
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy

from patron.campaigns.inbox_api import inbox
from patron.core.money import signed_points, yuan
from patron.ledger import references
from patron.ledger.models import STORED_VALUE_ASSETS, Asset, Entry, OwnerType, Transaction
from patron.members.models import Member
from patron.sales import selectors as sales
from patron.sales.models import Refund, Sale
from patron.wallet.views import shown_reason

PAGE_SIZE = 20
SALE, REFUND, MOVEMENT = "sale", "refund", "movement"
# Movements a sale or a refund caused are shown on its own row in the full list.
SALE_SOURCES = ("sale", "refund")
RECEIPT_SALT = "patron.portal.receipt"
Kind = Transaction.Kind

# The filter links: (value in ?kind=, label). "all" is the default.
FILTERS = (
    ("all", pgettext_lazy("history filter", "All")),
    ("purchases", pgettext_lazy("history filter", "Purchases")),
    ("stored_value", pgettext_lazy("history filter", "Stored value")),
    ("points", pgettext_lazy("history filter", "Points")),
)
FILTER_VALUES = frozenset(value for value, _label in FILTERS)

# What a movement was, as a member says it (the ledger's words are the staff's).
MOVEMENT_TITLES = {
    Kind.TOPUP: pgettext_lazy("member history", "Top-up"),
    Kind.PAY: pgettext_lazy("member history", "Paid with stored value"),
    Kind.CARD_REFUND: pgettext_lazy("member history", "Stored value refunded"),
    Kind.SPEND: pgettext_lazy("member history", "Points used on a purchase"),
    Kind.EXPIRE: pgettext_lazy("member history", "Points expired"),
    Kind.ADJUST: pgettext_lazy("member history", "Points adjusted by the store"),
    Kind.REVERSAL: pgettext_lazy("member history", "Correction"),
    Kind.MIGRATION: pgettext_lazy("member history", "Opening balance moved in"),
}
EARN_TITLES = {
    "sale": pgettext_lazy("member history", "Points earned on a purchase"),
    "birthday": pgettext_lazy("member history", "Birthday bonus points"),
    "campaign": pgettext_lazy("member history", "Bonus points"),
}
SOURCE_TITLES = {"refund": pgettext_lazy("member history", "Refund of a purchase")}
# Reasons the apps store as codes ("birthday", "card_refund" …): the title already says them.
# Only staff type reasons, on adjustments; any other reason that looks like a code is not shown.
CODE = re.compile(r"[a-z0-9_.:-]+")


@dataclass
class Figure:
    """One amount of a row: its words and its value as shown (¥12.34, +120)."""

    label: str
    value: str
    tone: str = ""  # "in" / "out": a colour hint only, the sign says it too


@dataclass
class HistoryRow:
    kind: str  # SALE / REFUND / MOVEMENT: the template's branch, never shown
    at: dt.datetime
    title: str
    store: str = ""
    note: str = ""
    figures: list[Figure] = field(default_factory=list)
    receipt_url: str = ""
    status: str = ""


# --- receipt references ----------------------------------------------------------------------


def receipt_ref(member: Member, sale_id: int) -> str:
    """The sale's id signed for this member: not guessable, and useless to anyone else."""
    return signing.Signer(salt=f"{RECEIPT_SALT}:{member.pk}", sep=".").sign(str(sale_id))


def receipt_url(member: Member, sale_id: int) -> str:
    return reverse("portal:receipt", args=[receipt_ref(member, sale_id)])


def member_sale(member: Member, ref: str) -> Sale | None:
    """The member's own sale behind a receipt reference, or None (tampered, another's)."""
    try:
        sale_id = signing.Signer(salt=f"{RECEIPT_SALT}:{member.pk}", sep=".").unsign(ref)
    except signing.BadSignature:
        return None
    if not sale_id.isdigit():
        return None
    return (
        Sale.objects.filter(pk=int(sale_id), member=member, merchant_id=member.merchant_id)
        .select_related("store", "member")
        .first()
    )


def member_receipt(sale: Sale) -> sales.Receipt:
    """The receipt the till prints, read by the sales app."""
    return sales.receipt(sale)


# --- the timeline ----------------------------------------------------------------------------


def _keyed(queryset: QuerySet, kind: str, at: str) -> QuerySet:
    return queryset.annotate(
        row=Value(kind, output_field=CharField()), at=F(at), ref=F("pk")
    ).values_list("row", "ref", "at")


def _sales(member: Member) -> QuerySet:
    return _keyed(Sale.objects.filter(member=member), SALE, "occurred_at")


def _refunds(member: Member) -> QuerySet:
    return _keyed(Refund.objects.filter(sale__member=member), REFUND, "created_at")


def _movements(member: Member, assets: tuple[str, ...] | None) -> QuerySet:
    movements = Transaction.objects.filter(member=member, merchant_id=member.merchant_id)
    if assets is None:
        movements = movements.exclude(source__in=SALE_SOURCES)
    else:
        touched = Entry.objects.filter(transaction=OuterRef("pk"), member=member, asset__in=assets)
        movements = movements.filter(Exists(touched))
    return _keyed(movements, MOVEMENT, "occurred_at")


def timeline(member: Member, kind: str) -> QuerySet:
    """(row kind, id, time) of everything the member's history lists under a filter."""
    if kind == "purchases":
        parts = [_sales(member), _refunds(member)]
    elif kind == "stored_value":
        parts = [_movements(member, tuple(STORED_VALUE_ASSETS))]
    elif kind == "points":
        parts = [_movements(member, (Asset.POINTS,))]
    else:
        parts = [_sales(member), _refunds(member), _movements(member, None)]
    first, *others = parts
    combined = first.union(*others, all=True) if others else first
    return combined.order_by("-at", "-ref")


def history_page(member: Member, kind: str, number: object) -> tuple[Page, list[HistoryRow]]:
    """One page of the member's history, newest first, and its rows in words."""
    page = Paginator(timeline(member, kind), PAGE_SIZE).get_page(number)
    keys = list(page.object_list)
    wanted: dict[str, list[int]] = defaultdict(list)
    for row_kind, ref, _at in keys:
        wanted[row_kind].append(ref)
    built: dict[tuple[str, int], HistoryRow] = {}
    built.update(_sale_rows(member, wanted[SALE]))
    built.update(_refund_rows(member, wanted[REFUND]))
    built.update(_movement_rows(member, wanted[MOVEMENT]))
    rows = [built[(row_kind, ref)] for row_kind, ref, _at in keys if (row_kind, ref) in built]
    return page, rows


# --- rows in words ---------------------------------------------------------------------------


def _sale_rows(member: Member, ids: list[int]) -> dict[tuple[str, int], HistoryRow]:
    if not ids:
        return {}
    found = Sale.objects.filter(pk__in=ids, member=member).select_related("store")
    return {(SALE, sale.pk): sale_row(member, sale) for sale in found}


def sale_row(member: Member, sale: Sale) -> HistoryRow:
    figures = [Figure(_("Paid"), yuan(sale.total))]
    if sale.saved:
        figures.append(Figure(_("Saved"), yuan(sale.saved), "in"))
    if sale.stored_value_paid:
        figures.append(Figure(_("From stored value"), yuan(-sale.stored_value_paid), "out"))
    if sale.points_redeemed:
        figures.append(Figure(_("Points used"), signed_points(-sale.points_redeemed), "out"))
    if sale.points_earned:
        label = _("Points earned (pending)") if sale.points_pending else _("Points earned")
        figures.append(Figure(label, signed_points(sale.points_earned), "in"))
    return HistoryRow(
        kind=SALE,
        at=sale.occurred_at,
        title=pgettext("member history", "Purchase"),
        store=sale.store.name,
        figures=figures,
        receipt_url=receipt_url(member, sale.pk),
        status="" if sale.status == Sale.Status.COMPLETED else sale.get_status_display(),
    )


def _refund_rows(member: Member, ids: list[int]) -> dict[tuple[str, int], HistoryRow]:
    if not ids:
        return {}
    found = Refund.objects.filter(pk__in=ids, sale__member=member).select_related(
        "store", "sale__store"
    )
    return {(REFUND, refund.pk): refund_row(member, refund) for refund in found}


def refund_row(member: Member, refund: Refund) -> HistoryRow:
    figures = [Figure(_("Refunded"), yuan(refund.amount), "in")]
    if refund.stored_value_returned:
        figures.append(Figure(_("Back to stored value"), yuan(refund.stored_value_returned), "in"))
    if refund.points_returned:
        figures.append(Figure(_("Points given back"), signed_points(refund.points_returned), "in"))
    if refund.points_reversed:
        figures.append(
            Figure(_("Earned points taken back"), signed_points(-refund.points_reversed), "out")
        )
    store = refund.store or refund.sale.store
    return HistoryRow(
        kind=REFUND,
        at=refund.created_at,
        title=pgettext("member history", "Refund of a purchase"),
        store=store.name,
        figures=figures,
        receipt_url=receipt_url(member, refund.sale_id),
    )


def _movement_rows(member: Member, ids: list[int]) -> dict[tuple[str, int], HistoryRow]:
    if not ids:
        return {}
    found = Transaction.objects.filter(pk__in=ids, member=member).select_related("store")
    amounts: dict[int, dict[str, int]] = defaultdict(dict)
    sums = (
        Entry.objects.filter(
            transaction_id__in=ids, member=member, account__owner_type=OwnerType.MEMBER
        )
        .values("transaction_id", "asset")
        .annotate(total=Sum("amount"))
    )
    for row in sums:
        amounts[row["transaction_id"]][row["asset"]] = row["total"]
    sale_ids = _caused_sales(found)
    return {
        (MOVEMENT, txn.pk): movement_row(member, txn, amounts[txn.pk], sale_ids.get(txn.pk))
        for txn in found
    }


def _caused_sales(transactions: QuerySet[Transaction]) -> dict[int, int]:
    """The sale each sale or refund movement came from, by transaction id (for its receipt)."""
    sale_refs = references.refs_as_ids(t for t in transactions if t.source == "sale")
    refund_refs = references.refs_as_ids(t for t in transactions if t.source == "refund")
    found: dict[int, int] = {}
    for sale_id in sale_refs:
        for txn in sale_refs[sale_id]:
            found[txn.pk] = sale_id
    if refund_refs:
        for refund_id, sale_id in Refund.objects.filter(pk__in=list(refund_refs)).values_list(
            "pk", "sale_id"
        ):
            for txn in refund_refs[refund_id]:
                found[txn.pk] = sale_id
    return found


def movement_title(txn: Transaction) -> str:
    if references.has_own_words(txn.source) and txn.kind != Kind.REVERSAL:
        return references.reason_words(txn.kind, txn.source)
    if txn.kind == Kind.EARN:
        return str(EARN_TITLES.get(txn.source, EARN_TITLES["campaign"]))
    if txn.source in SOURCE_TITLES and txn.kind != Kind.SPEND:
        return str(SOURCE_TITLES[txn.source])
    return str(MOVEMENT_TITLES.get(txn.kind, references.reason_words(txn.kind, txn.source)))


def movement_note(txn: Transaction) -> str:
    """How a top-up was paid, why staff adjusted, which campaign gave points ("" otherwise)."""
    if txn.kind == Kind.REVERSAL and not txn.reason:
        return ""  # the console's "Reverses #12" names an internal number
    note = shown_reason(txn)
    if txn.kind != Kind.ADJUST and CODE.fullmatch(note.strip()):
        return ""
    return note


def movement_row(
    member: Member, txn: Transaction, amounts: dict[str, int], sale_id: int | None
) -> HistoryRow:
    principal = amounts.get(Asset.PRINCIPAL, 0)
    bonus = amounts.get(Asset.BONUS, 0)
    points = amounts.get(Asset.POINTS, 0)
    figures = []
    if txn.kind == Kind.TOPUP:
        figures.append(Figure(_("Amount"), yuan(principal), "in"))
        if bonus:
            figures.append(Figure(_("Bonus"), yuan(bonus), "in"))
    elif principal or bonus:
        total = principal + bonus
        figures.append(Figure(_("Stored value"), yuan(total), "in" if total > 0 else "out"))
    if points:
        figures.append(Figure(_("Points"), signed_points(points), "in" if points > 0 else "out"))
    title, note = movement_title(txn), movement_note(txn)
    return HistoryRow(
        kind=MOVEMENT,
        at=txn.occurred_at,
        title=title,
        store=txn.store.name if txn.store_id else "",
        note="" if note == title else note,  # a check-in's reason says what its title says
        figures=figures,
        receipt_url=receipt_url(member, sale_id) if sale_id else "",
    )


# --- the inbox -------------------------------------------------------------------------------


def unread(member: Member) -> QuerySet:
    return inbox(member).filter(read_at__isnull=True)


def unread_total(member: Member) -> int:
    return unread(member).count()


def member_message(member: Member, pk: int):
    """One of the member's inbox messages, or None (another member's, not sent yet)."""
    return inbox(member).filter(pk=pk).first()
