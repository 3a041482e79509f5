"""Reads of the ledger: balances (now, in the past, projected), history, liabilities, reconcile."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.core.dates import local_day
from patron.core.settled import settled_then_live
from patron.engine.money import div_round_half_up
from patron.ledger.models import (
    STORED_VALUE_ASSETS,
    Account,
    Asset,
    Entry,
    OwnerType,
    PointsHold,
    PointsLot,
    Shortfall,
    SystemAccount,
    Transaction,
)
from patron.ledger.services import policy_for
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant
from patron.tenancy.selectors import scoped

if TYPE_CHECKING:
    from patron.members.models import Member


def _member_balances_now(member: Member) -> dict[str, int]:
    rows = Account.objects.filter(member=member, owner_type=OwnerType.MEMBER)
    return {row.asset: row.balance for row in rows}


def _member_balances_at(member: Member, as_of: dt.datetime) -> dict[str, int]:
    rows = (
        Entry.objects.filter(
            member=member, account__owner_type=OwnerType.MEMBER, occurred_at__lte=as_of
        )
        .values("asset")
        .annotate(total=Sum("amount"))
    )
    return {row["asset"]: row["total"] for row in rows}


def member_balances(member: Member, as_of: dt.datetime | None = None) -> dict[str, Any]:
    """API.md §3 balances. `as_of` in the past reads history from entries; in the future it
    projects: today's points less the lots that will have expired by then."""
    now = timezone.now()
    lots = PointsLot.objects.filter(member=member, remaining__gt=0)
    if as_of is None or as_of >= now:
        # Today's balance, less lots that have expired by then but are not yet swept (or
        # that will have expired by a future `as_of`).
        at = as_of or now
        values = _member_balances_now(member)
        points = values.get(Asset.POINTS, 0) - (
            lots.filter(expires_at__lte=at).aggregate(total=Sum("remaining"))["total"] or 0
        )
        expiring_lots = lots.filter(expires_at__gt=at)
    else:
        values = _member_balances_at(member, as_of)
        points = values.get(Asset.POINTS, 0)
        expiring_lots = PointsLot.objects.none()
    expiring = (
        expiring_lots.values("expires_at").annotate(points=Sum("remaining")).order_by("expires_at")
    )
    pending = PointsHold.objects.filter(member=member, status=PointsHold.Status.PENDING)
    if as_of is not None:
        pending = pending.filter(earned_at__lte=as_of)
    principal = values.get(Asset.PRINCIPAL, 0)
    bonus = values.get(Asset.BONUS, 0)
    return {
        "as_of": as_of or now,
        "points": {
            "available": points,
            "pending": pending.aggregate(total=Sum("points"))["total"] or 0,
            "expiring": [
                {"points": row["points"], "expires_at": row["expires_at"]} for row in expiring
            ],
        },
        "stored_value": {"principal": principal, "bonus": bonus, "total": principal + bonus},
        "shortfalls": {
            row["asset"]: row["total"]
            for row in Shortfall.objects.filter(member=member)
            .values("asset")
            .annotate(total=Sum("amount"))
        },
    }


MEMBER_ENTRIES_ORDERING = ("-occurred_at", "-id")  # the entry_member_newest index


def member_entries(member: Member, asset: str | None = None) -> QuerySet[Entry]:
    """The member's side of every movement, newest first."""
    entries = (
        Entry.objects.filter(member=member, account__owner_type=OwnerType.MEMBER)
        .select_related(
            "transaction", "transaction__store", "transaction__user", "transaction__api_key"
        )
        .order_by(*MEMBER_ENTRIES_ORDERING)
    )
    if asset == "stored_value":
        entries = entries.filter(asset__in=STORED_VALUE_ASSETS)
    elif asset:
        entries = entries.filter(asset=asset)
    return entries


def pending_holds(member: Member) -> QuerySet[PointsHold]:
    return (
        PointsHold.objects.filter(member=member, status=PointsHold.Status.PENDING)
        .select_related("store")
        .order_by("release_at", "pk")
    )


def member_shortfalls(member: Member) -> QuerySet[Shortfall]:
    return (
        Shortfall.objects.filter(member=member)
        .select_related("transaction", "transaction__reverses")
        .order_by("-created_at", "-pk")
    )


def top_up(actor: Actor, pk: int) -> Transaction | None:
    """One top-up of the merchant, in whichever store (the caller checks its member is in the
    actor's scope: a store-bound role sees its own store's members' top-ups)."""
    top_ups = Transaction.objects.select_related("store", "user", "api_key").filter(
        kind=Transaction.Kind.TOPUP, pk=pk
    )
    return scoped(top_ups, actor, store_field=None).first()


def member_lots(member: Member) -> QuerySet[PointsLot]:
    return PointsLot.objects.filter(member=member).order_by(
        F("expires_at").asc(nulls_last=True), "earned_at"
    )


@dataclass
class Liability:
    store_code: str | None
    store_name: str
    principal: int
    bonus: int
    points: int


def current_liabilities(merchant: Merchant, store_ids: list[int] | None) -> QuerySet:
    accounts = Account.objects.filter(merchant=merchant, owner_type=OwnerType.MEMBER)
    if store_ids is not None:
        accounts = accounts.filter(member__store_id__in=store_ids)
    return accounts.values("member__store__code", "member__store__name", "asset").annotate(
        total=Sum("balance")
    )


def liabilities(
    merchant: Merchant, as_of: dt.datetime | None = None, store_ids: list[int] | None = None
) -> list[Liability]:
    """Outstanding principal, bonus and points per member home store, as of a moment (F-15).

    Now, they are the member accounts' cached balances (kept with every posting, checked by
    `patron reconcile`): one row per account instead of every entry the merchant ever posted
    (docs/scale.md). A past moment sums the entries up to it."""
    if as_of is None:
        rows = current_liabilities(merchant, store_ids)
    else:
        entries = Entry.objects.filter(
            account__merchant=merchant, account__owner_type=OwnerType.MEMBER, occurred_at__lte=as_of
        )
        if store_ids is not None:
            entries = entries.filter(member__store_id__in=store_ids)
        rows = entries.values("member__store__code", "member__store__name", "asset").annotate(
            total=Sum("amount")
        )
    by_store: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        key = (row["member__store__code"], row["member__store__name"] or "")
        by_store[key][row["asset"]] += row["total"] or 0
    return [
        Liability(code, name, totals[Asset.PRINCIPAL], totals[Asset.BONUS], totals[Asset.POINTS])
        for (code, name), totals in sorted(by_store.items(), key=lambda kv: kv[0][0] or "~")
    ]


@dataclass
class Difference:
    kind: str
    subject: str
    expected: int
    found: int

    def __str__(self) -> str:
        return f"{self.kind} {self.subject}: expected {self.expected}, found {self.found}"


def reconcile(merchant: Merchant | None = None) -> list[Difference]:
    """Recompute every cached balance and lot total from entries; list every difference."""
    accounts = Account.objects.filter(owner_type=OwnerType.MEMBER)
    transactions = Entry.objects.all()
    lots = PointsLot.objects.all()
    if merchant is not None:
        accounts = accounts.filter(merchant=merchant)
        transactions = transactions.filter(transaction__merchant=merchant)
        lots = lots.filter(merchant=merchant)
    differences: list[Difference] = []
    sums = accounts.annotate(entries_total=Sum("entries__amount")).values(
        "pk", "asset", "member_id", "balance", "entries_total"
    )
    points_by_member: dict[int, int] = {}
    for row in sums:
        total = row["entries_total"] or 0
        if total != row["balance"]:
            differences.append(
                Difference(
                    "balance",
                    f"account {row['pk']} ({row['asset']}, member {row['member_id']})",
                    total,
                    row["balance"],
                )
            )
        if row["balance"] < 0:
            differences.append(Difference("negative", f"account {row['pk']}", 0, row["balance"]))
        if row["asset"] == Asset.POINTS:
            points_by_member[row["member_id"]] = row["balance"]
    for row in lots.values("member_id").annotate(total=Sum("remaining")):
        balance = points_by_member.pop(row["member_id"], 0)
        if row["total"] != balance:
            differences.append(
                Difference("lots", f"member {row['member_id']}", balance, row["total"])
            )
    for member_id, balance in points_by_member.items():
        if balance:
            differences.append(Difference("lots", f"member {member_id}", balance, 0))
    unbalanced = (
        transactions.values("transaction_id", "asset")
        .annotate(total=Sum("amount"))
        .exclude(total=0)
    )
    for row in unbalanced:
        differences.append(
            Difference(
                "unbalanced",
                f"transaction {row['transaction_id']} ({row['asset']})",
                0,
                row["total"],
            )
        )
    short = transactions.values("transaction_id").annotate(n=Count("id")).filter(n__lt=2)
    for row in short:
        differences.append(
            Difference("single-entry", f"transaction {row['transaction_id']}", 2, row["n"])
        )
    return differences


# --- liabilities report (F-49) ---------------------------------------------------------------


@dataclass
class LiabilityRow:
    store_code: str | None
    store_name: str
    principal: int
    bonus: int
    points: int
    points_value: int

    @property
    def stored_value(self) -> int:
        return self.principal + self.bonus

    @property
    def total_value(self) -> int:
        return self.stored_value + self.points_value


@dataclass
class LiabilityReport:
    as_of: dt.datetime | None
    rows: list[LiabilityRow]
    total: LiabilityRow
    redeem_points: int
    redeem_value: int


def points_value(points: int, redeem: dict[str, int]) -> int:
    """What outstanding points are worth in fen at the cash-redemption rate (half-up)."""
    return div_round_half_up(points * redeem["value"], redeem["points"])


def liability_report(actor: Actor, as_of: dt.datetime | None) -> LiabilityReport:
    bound = actor.store_bound
    store_ids = [bound.pk] if bound is not None else None
    redeem = policy_for(actor.merchant).points_policy()["redeem_cash"]
    rows = [
        LiabilityRow(
            store_code=item.store_code,
            store_name=item.store_name or _("No store (registered at HQ)"),
            principal=item.principal,
            bonus=item.bonus,
            points=item.points,
            points_value=points_value(item.points, redeem),
        )
        for item in liabilities(actor.merchant, as_of, store_ids)
    ]
    all_points = sum(row.points for row in rows)
    total = LiabilityRow(
        store_code=None,
        store_name=_("Total"),
        principal=sum(row.principal for row in rows),
        bonus=sum(row.bonus for row in rows),
        points=all_points,
        # Valued once on the total, so the total is the rate applied to all points (the
        # per-store values may differ from it by rounding, by at most half a fen per store).
        points_value=points_value(all_points, redeem),
    )
    return LiabilityReport(as_of, rows, total, redeem["points"], redeem["value"])


# --- movements per day (the console home) ----------------------------------------------------

# The merchant's side of each figure, and the sign that makes it positive: a top-up takes
# principal out of `cash`, earning takes points out of `issued`, spending puts them in
# `redeemed` (reversals on refunds move them back, so the figures are net of refunds).
DAILY_FIGURES = {
    "topups": (Asset.PRINCIPAL, SystemAccount.CASH, -1),
    "points_issued": (Asset.POINTS, SystemAccount.ISSUED, -1),
    "points_redeemed": (Asset.POINTS, SystemAccount.REDEEMED, 1),
}


def daily_movements(actor: Actor, since: dt.datetime, zone: dt.tzinfo) -> list[dict[str, Any]]:
    """Top-ups (principal paid in, fen), points issued and points redeemed per store and local
    day (in `zone`) from `since`: rows of {store, day, topups, points_issued, points_redeemed}.
    The store is the transaction's (where it was done); a top-up counts when it is a top-up,
    not a card refund."""
    which = Q()
    for asset, code, _sign in DAILY_FIGURES.values():
        which |= Q(asset=asset, system_code=code)
    # The merchant's three system accounts first (a few rows by a unique index), then their
    # entries by (account, occurred_at): filtering entries through the account's merchant
    # would walk every member account of the merchant.
    accounts = dict(
        scoped(
            Account.objects.filter(which, owner_type=OwnerType.SYSTEM), actor, store_field=None
        ).values_list("pk", "system_code")
    )
    cash = [pk for pk, code in accounts.items() if code == SystemAccount.CASH]
    entries = Entry.objects.filter(
        ~Q(account_id__in=cash) | Q(transaction__kind=Transaction.Kind.TOPUP),
        account_id__in=list(accounts),
        occurred_at__gte=since,
    )
    if actor.store_bound is not None:
        entries = entries.filter(transaction__store=actor.store_bound)

    def sums(chosen: QuerySet[Entry]) -> list[dict[str, Any]]:
        return list(
            chosen.annotate(day=local_day("occurred_at", zone, since))
            .values("transaction__store_id", "account_id", "day")
            .annotate(total=Sum("amount"))
            .order_by()
        )

    # Entries are append-only: the days before yesterday are summed once a day (core.settled).
    today = timezone.now().astimezone(zone).date()
    totals = settled_then_live(entries, "occurred_at", zone, today, sums)
    sign_of = {code: (name, sign) for name, (_asset, code, sign) in DAILY_FIGURES.items()}
    rows: dict[tuple[int | None, dt.date], dict[str, Any]] = {}
    for found in totals:
        key = (found["transaction__store_id"], found["day"])
        into = rows.setdefault(
            key, {"store": key[0], "day": key[1], **dict.fromkeys(DAILY_FIGURES, 0)}
        )
        name, sign = sign_of[accounts[found["account_id"]]]
        into[name] += sign * (found["total"] or 0)
    return list(rows.values())
