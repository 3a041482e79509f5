"""Reads for settlement between stores: every flow from the ledger and the sales' discounts,
the month each belongs to, and a month's statement (frozen lines when the month is closed).

Which month a flow belongs to
-----------------------------
A flow's own month is the merchant's local month of the movement that made it (the debit, or
the refund's credit reversing it; for an activity the sale, or its refund). A closed month
holds exactly the lines frozen when it closed. Every flow not frozen belongs to the first
month not closed at or after its own month: normally its own month; a flow whose month was
closed before its transaction was written (a till uploading a sale late: sales accept
`occurred_at` up to 30 days back) lands in the first open month after it, and the statement
lists it as late with its real date. So an open month X shows every unfrozen flow whose own
month is <= X and whose months from its own up to X-1 are all closed; months after X never
reach back into it.

Attribution walks each member's principal movements in transaction id order
(`patron.engine.settlement`), so what was frozen is also what recomputing would give: later
movements never change how earlier ones were attributed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from patron.core import months
from patron.core.months import month_of, next_month, parse_month, previous_month
from patron.engine import settlement as engine
from patron.ledger.models import Account, Asset, Entry, OwnerType
from patron.members.validation import mask_mobile
from patron.network.models import SettlementLine, SettlementMonth
from patron.promotions.models import Promotion
from patron.sales.models import Refund, Sale, SaleDiscount
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant, Store
from patron.tenancy.permissions import merchant_zone

HQ = engine.HQ


# --- months ----------------------------------------------------------------------------------
# parse_month, next_month and previous_month are the shared ones (patron.core.months).


def month_end(merchant: Merchant, month: str) -> dt.datetime:
    """The first instant after `month` in the merchant's zone."""
    return months.month_bounds(month, merchant_zone(merchant.timezone))[1]


def last_month(merchant: Merchant, now: dt.datetime | None = None) -> str:
    return previous_month(months.this_month(merchant_zone(merchant.timezone), now))


# --- flows -----------------------------------------------------------------------------------


@dataclass
class Line:
    """One flow with what is behind it, in the shape of a frozen `SettlementLine`."""

    key: str
    kind: str
    payer: str  # store code, or HQ
    payee: str
    amount: int
    occurred_at: dt.datetime
    created_at: dt.datetime | None = None
    transaction_id: int | None = None
    deposit_id: int | None = None
    sale_id: int | None = None
    refund_id: int | None = None
    member_id: int | None = None
    label: str = ""
    own_month: str = ""
    month: str = ""  # where it belongs (see the module docstring)

    @property
    def late(self) -> bool:
        return self.month != self.own_month


@dataclass
class _Txn:
    store: str
    member_id: int
    amount: int = 0
    reverses: int | None = None
    occurred_at: dt.datetime | None = None
    created_at: dt.datetime | None = None
    source: str = ""
    source_ref: str = ""


def _principal_movements(merchant: Merchant, codes: dict[int, str]) -> dict[int, _Txn]:
    # The merchant's principal accounts first (their unique index): entries have no index on
    # the asset, and filtering them by it scanned every entry of the ledger (docs/scale.md).
    accounts = Account.objects.filter(
        merchant=merchant, asset=Asset.PRINCIPAL, owner_type=OwnerType.MEMBER
    ).values("pk")
    rows = Entry.objects.filter(
        account_id__in=accounts,
        transaction__merchant=merchant,
        asset=Asset.PRINCIPAL,
        account__owner_type=OwnerType.MEMBER,
    ).values_list(
        "transaction_id",
        "account__member_id",
        "amount",
        "transaction__store_id",
        "transaction__reverses_id",
        "transaction__occurred_at",
        "transaction__created_at",
        "transaction__source",
        "transaction__source_ref",
    )
    txns: dict[int, _Txn] = {}
    for pk, member, amount, store, reverses, occurred, created, source, ref in rows:
        txn = txns.get(pk)
        if txn is None:
            txn = txns[pk] = _Txn(
                codes.get(store, HQ), member, 0, reverses, occurred, created, source, ref
            )
        txn.amount += amount
    return txns


def _principal_lines(merchant: Merchant, codes: dict[int, str]) -> list[Line]:
    txns = _principal_movements(merchant, codes)
    per_member: dict[int, list[engine.Movement]] = defaultdict(list)
    for pk, txn in txns.items():
        per_member[txn.member_id].append(engine.Movement(pk, txn.store, txn.amount, txn.reverses))
    flows = [flow for moves in per_member.values() for flow in engine.attribute(moves).flows]
    refs = {flow.ref for flow in flows}
    sales = dict(
        Sale.objects.filter(merchant=merchant, stored_value_payment_id__in=refs).values_list(
            "stored_value_payment_id", "pk"
        )
    )
    refund_ids = {
        int(txns[ref].source_ref)
        for ref in refs
        if txns[ref].source == "refund" and txns[ref].source_ref.isdigit()
    }
    refunds = dict(
        Refund.objects.filter(merchant=merchant, pk__in=refund_ids).values_list("pk", "sale_id")
    )
    lines = []
    for flow in flows:
        txn = txns[flow.ref]
        refund = (
            int(txn.source_ref) if txn.source == "refund" and txn.source_ref.isdigit() else None
        )
        sale = refunds.get(refund) if refund is not None else sales.get(flow.debit)
        lines.append(
            Line(
                key=f"p:{flow.ref}:{flow.deposit}",
                kind=SettlementLine.Kind.PRINCIPAL,
                payer=flow.payer,
                payee=flow.payee,
                amount=flow.amount,
                occurred_at=txn.occurred_at,
                created_at=txn.created_at,
                transaction_id=flow.ref,
                deposit_id=flow.deposit,
                sale_id=sale,
                refund_id=refund if refund in refunds else None,
                member_id=txn.member_id,
            )
        )
    return lines


def _owner_of(discount: SaleDiscount, promotions: dict[str, int | None]) -> int | None:
    if discount.coupon_id is not None:
        return discount.coupon.template.owner_store_id
    return promotions.get(discount.code.lower())


def kept_share(amount: int, refunded: int, total: int) -> int:
    """What of a discount of `amount` is given back once `refunded` of a sale's `total` has
    been refunded (cumulative, rounded down; all of it once the whole sale is refunded)."""
    if total <= 0:
        return amount if refunded else 0
    return amount * min(refunded, total) // total


def _activity_lines(merchant: Merchant, codes: dict[int, str]) -> list[Line]:
    """A discount given at store B by a promotion or coupon that store A runs: A owes B the
    discount; each refund of the sale gives back its share of it (see `kept_share`)."""
    promotions = dict(
        (code.lower(), owner)
        for code, owner in Promotion.objects.filter(
            merchant=merchant, owner_store__isnull=False
        ).values_list("code", "owner_store_id")
    )
    discounts = (
        SaleDiscount.objects.filter(sale__merchant=merchant, amount__gt=0)
        .filter(
            Q(coupon__template__owner_store__isnull=False)
            | Q(coupon__isnull=True, code__iregex=_any_of(promotions))
        )
        .select_related("sale", "coupon__template")
        .order_by("pk")
    )
    lines = []
    discounts = list(discounts)
    refunds_of: dict[int, list[Refund]] = defaultdict(list)
    for refund in Refund.objects.filter(sale__in={d.sale_id for d in discounts}).order_by("pk"):
        refunds_of[refund.sale_id].append(refund)
    for discount in discounts:
        owner = _owner_of(discount, promotions)
        sale = discount.sale
        if owner is None or owner == sale.store_id:
            continue
        payer, payee = codes.get(owner, HQ), codes.get(sale.store_id, HQ)
        label = _label(discount)
        common = {"kind": SettlementLine.Kind.ACTIVITY, "payer": payer, "payee": payee}
        common |= {"sale_id": sale.pk, "member_id": sale.member_id, "label": label[:100]}
        lines.append(
            Line(
                key=f"a:{discount.pk}:0",
                amount=discount.amount,
                occurred_at=sale.occurred_at,
                created_at=sale.created_at,
                **common,
            )
        )
        refunded = 0
        for refund in refunds_of[sale.pk]:
            before = kept_share(discount.amount, refunded, sale.total)
            refunded += refund.amount
            back = kept_share(discount.amount, refunded, sale.total) - before
            if back:
                lines.append(
                    Line(
                        key=f"a:{discount.pk}:{refund.pk}",
                        amount=-back,
                        occurred_at=refund.created_at,
                        created_at=refund.created_at,
                        refund_id=refund.pk,
                        **common,
                    )
                )
    return lines


def _label(discount: SaleDiscount) -> str:
    """An activity's name and code (a coupon's template, not the coupon's own code)."""
    if discount.coupon_id is not None:
        template = discount.coupon.template
        return f"{template.name} ({template.code})"
    return f"{discount.name} ({discount.code})" if discount.name else discount.code


def _any_of(codes: dict[str, Any]) -> str:
    if not codes:
        return r"^$a"  # matches nothing
    return "^(" + "|".join(re.escape(code) for code in codes) + ")$"


def all_lines(merchant: Merchant) -> list[Line]:
    """Every flow of the merchant, each with the month it belongs to (module docstring)."""
    codes = dict(Store.objects.filter(merchant=merchant).values_list("pk", "code"))
    zone = merchant_zone(merchant.timezone)
    closed = dict(
        SettlementMonth.objects.filter(merchant=merchant).values_list("month", "closed_at")
    )
    frozen = set(SettlementLine.objects.filter(merchant=merchant).values_list("key", flat=True))
    lines = [
        line
        for line in _principal_lines(merchant, codes) + _activity_lines(merchant, codes)
        if line.key not in frozen
    ]
    for line in lines:
        line.own_month = line.month = month_of(line.occurred_at, zone)
        while line.month in closed:
            line.month = next_month(line.month)
    return lines


# --- statements ------------------------------------------------------------------------------


@dataclass
class Statement:
    month: str
    status: str  # open / closed
    lines: list[Line]
    closed_at: dt.datetime | None = None
    closed_by: str = ""
    store: str | None = None  # the store a store manager is limited to
    names: dict[str, str] = field(default_factory=dict)  # store code -> name

    # Computed once per statement: the page, its chart, the workbook and the API read them.
    @cached_property
    def rows(self) -> list[engine.Row]:
        rows = engine.net_rows(
            engine.Flow(0, 0, 0, line.payer, line.payee, line.amount, line.kind)
            for line in self.lines
        )
        if self.store is not None:
            rows = [row for row in rows if self.store in (row.payer, row.payee)]
        return rows

    @cached_property
    def net(self) -> dict[str, int]:
        net = engine.net_by_party(self.rows)
        if self.store is not None:
            # A store manager sees the pairs of their own store only: the other stores' nets
            # built from those would be partial figures, so only their own (complete) one shows.
            net = {code: amount for code, amount in net.items() if code == self.store}
        return net

    def late(self) -> list[Line]:
        return [line for line in self.lines if line.late and self._sees(line)]

    def activities(self) -> list[dict[str, Any]]:
        totals: dict[tuple[str, str, str], int] = defaultdict(int)
        for line in self.lines:
            if line.kind == SettlementLine.Kind.ACTIVITY and self._sees(line):
                totals[(line.label, line.payer, line.payee)] += line.amount
        return [
            {"activity": label, "payer": payer, "payee": payee, "amount": amount}
            for (label, payer, payee), amount in sorted(totals.items())
            if amount
        ]

    def _sees(self, line: Line) -> bool:
        return self.store is None or self.store in (line.payer, line.payee)

    def name(self, code: str) -> str:
        return self.names.get(code) or (_("Head office") if code == HQ else code)

    def as_dict(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "status": self.status,
            "closed_at": self.closed_at,
            "closed_by": self.closed_by or None,
            "rows": [
                {"payer": row.payer, "payee": row.payee, "amount": row.amount} for row in self.rows
            ],
            "net": self.net,
            "late": [
                {
                    "kind": line.kind,
                    "payer": line.payer,
                    "payee": line.payee,
                    "amount": line.amount,
                    "occurred_at": line.occurred_at,
                    "occurred_month": line.own_month,
                    "sale": line.sale_id,
                    "transaction": line.transaction_id,
                }
                for line in self.late()
            ],
            "activities": self.activities(),
        }


def _frozen(row: SettlementLine, codes: dict[int, str]) -> Line:
    return Line(
        key=row.key,
        kind=row.kind,
        payer=codes.get(row.payer_id, HQ),
        payee=codes.get(row.payee_id, HQ),
        amount=row.amount,
        occurred_at=row.occurred_at,
        transaction_id=row.transaction_id,
        deposit_id=row.deposit_id,
        sale_id=row.sale_id,
        refund_id=row.refund_id,
        member_id=row.member_id,
        label=row.label,
        own_month=row.occurred_month,
        month=row.closed_month.month,
    )


def statement(actor: Actor, month: str) -> Statement:
    """The month's statement as `actor` may see it (a store-bound role: its own store's pairs)."""
    month = parse_month(month)
    merchant = actor.merchant
    stores = list(Store.objects.filter(merchant=merchant).values_list("pk", "code", "name"))
    codes = {pk: code for pk, code, _name in stores}
    names = {code: name for _pk, code, name in stores}
    bound = actor.store_bound
    closed = (
        SettlementMonth.objects.filter(merchant=merchant, month=month)
        .select_related("closed_by")
        .first()
    )
    if closed is not None:
        rows = SettlementLine.objects.filter(closed_month=closed).select_related("closed_month")
        lines = [_frozen(row, codes) for row in rows.order_by("pk")]
        by = closed.closed_by.get_username() if closed.closed_by else ""
        return Statement(month, "closed", lines, closed.closed_at, by, bound and bound.code, names)
    lines = [line for line in all_lines(merchant) if line.month == month]
    return Statement(month, "open", lines, store=bound and bound.code, names=names)


def pair_lines(actor: Actor, month: str, payer: str, payee: str) -> list[dict[str, Any]]:
    """The flows behind a pair (either way), amounts as `payer` owing `payee`, with the sale,
    the top-up whose cash it was and the member (masked)."""
    found = statement(actor, month)
    if found.store is not None and found.store not in (payer, payee):
        return []
    picked = [
        line for line in found.lines if (line.payer, line.payee) in ((payer, payee), (payee, payer))
    ]
    from patron.ledger.models import Transaction
    from patron.members.models import Member

    members = {
        m.pk: m
        for m in Member.objects.filter(
            merchant=actor.merchant, pk__in={line.member_id for line in picked}
        )
    }
    deposits = {
        t.pk: t
        for t in Transaction.objects.filter(
            merchant=actor.merchant, pk__in={line.deposit_id for line in picked}
        ).select_related("store")
    }
    out = []
    for line in sorted(picked, key=lambda line: (line.occurred_at, line.key)):
        member = members.get(line.member_id)
        deposit = deposits.get(line.deposit_id)
        out.append(
            {
                "key": line.key,
                "kind": line.kind,
                "amount": line.amount if line.payer == payer else -line.amount,
                "occurred_at": line.occurred_at,
                "late": line.late,
                "sale": line.sale_id,
                "refund": line.refund_id,
                "transaction": line.transaction_id,
                "activity": line.label or None,
                "member": member.pk if member else None,
                "member_mobile": mask_mobile(member.mobile) if member and member.mobile else "",
                "topup": deposit.pk if deposit else None,
                "topup_at": deposit.occurred_at if deposit else None,
                "topup_store": (deposit.store.code if deposit.store_id else HQ)
                if deposit
                else None,
            }
        )
    return out
