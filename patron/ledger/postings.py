"""A sale's ledger movements in a handful of fixed statements (checkout's hot path).

A sale moves up to three things for one member in its database transaction: points spent (the
cash offset), stored value paid and points earned. Instead of three postings through `post()`,
each re-reading accounts and policy, the member's accounts are locked and read once, together
with the system accounts, and the transactions, their entries, the balance changes and the lot
bookkeeping go out as multi-row statements (chained as data-modifying CTEs on PostgreSQL).

The rows written are exactly the ones `spend_points`, `pay_stored_value` and `earn_points`
write — same kinds, keys, legs, reasons, lots and lot movements — so refunds, reversals,
statements and `reconcile` cannot tell them apart. Every rule of `post()` holds: entries
balance per asset, member balances never go below zero (checked under the row locks and again
by the guarded UPDATE), and the member's accounts are locked in primary-key order.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db import connection
from django.utils import timezone

from patron.core import rawsql
from patron.engine.points import ExpiryPolicy, lot_expires_at
from patron.engine.stored_value import split_payment
from patron.ledger import services
from patron.ledger.errors import InsufficientFunds
from patron.ledger.models import (
    Account,
    Asset,
    Entry,
    LotMovement,
    OwnerType,
    PointsHold,
    PointsLot,
    SystemAccount,
    Transaction,
)
from patron.ledger.sql import ENTRY_COLUMNS, TRANSACTION_COLUMNS
from patron.tenancy.actor import Actor
from patron.tenancy.models import Store

if TYPE_CHECKING:
    from patron.members.models import Member

Kind = Transaction.Kind
REASONS = {Kind.SPEND: "points offset", Kind.PAY: "stored value payment", Kind.EARN: "sale"}
KEY_SUFFIX = {Kind.SPEND: "spend", Kind.PAY: "pay", Kind.EARN: "earn"}
_ACCOUNT = rawsql.Table(Account)
_TRANSACTION = rawsql.Table(Transaction)
_LOT = rawsql.Table(PointsLot)
_LOT_COLUMNS = (
    "merchant_id",
    "member_id",
    "earned_by_id",
    "earned_at",
    "expires_at",
    "amount",
    "remaining",
)


@dataclass(frozen=True)
class SaleMoves:
    """What one sale moves for its member, and the ledger rules it moves them by."""

    sale_id: int
    store: Store | None
    occurred_at: dt.datetime
    points_spent: int = 0
    stored_value: int = 0
    points_earned: int = 0
    payment_split: str = "proportional"
    expiry: ExpiryPolicy = ExpiryPolicy()
    pending_days: int = 0


@dataclass
class SalePosted:
    """The ledger rows the sale points to (None: nothing of that kind moved)."""

    spend_id: int | None = None
    pay_id: int | None = None
    earn_id: int | None = None
    hold: PointsHold | None = None


@dataclass
class _Plan:
    """Legs per transaction kind, balance changes per member account, lot bookkeeping."""

    legs: dict[str, list[tuple[int, str, int, bool]]] = field(default_factory=dict)
    changes: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    taken: dict[int, int] = field(default_factory=lambda: defaultdict(int))

    def add(self, kind: str, account: tuple[int, str], amount: int, mine: bool) -> None:
        account_id, asset = account
        self.legs.setdefault(kind, []).append((account_id, asset, amount, mine))
        if mine:
            self.changes[account_id] += amount
            if amount < 0:
                self.taken[account_id] -= amount


def post_sale(actor: Actor, member: Member, moves: SaleMoves) -> SalePosted:
    """Post the sale's points spend, stored value payment and points earn (in that order).

    Must run inside the sale's database transaction; raises InsufficientFunds (nothing
    written by this function then) when the member's balances or usable lots do not cover it.
    """
    posted = SalePosted()
    earn_now = moves.points_earned if moves.pending_days <= 0 else 0
    mine, system = _accounts(member, moves, earn_now)
    plan = _plan(moves, earn_now, mine, system)
    if plan.legs:
        write = _write_combined if connection.vendor == "postgresql" else _write_one_by_one
        ids = write(actor, member, moves, plan, mine, earn_now)
        posted.spend_id, posted.pay_id = ids.get(Kind.SPEND), ids.get(Kind.PAY)
        posted.earn_id = ids.get(Kind.EARN)
    if moves.points_earned and not earn_now:
        posted.hold = services._hold_points(
            actor,
            member,
            moves.points_earned,
            key=f"sale:{moves.sale_id}:earn",
            context=services.Context(
                store=moves.store,
                reason=REASONS[Kind.EARN],
                source="sale",
                source_ref=str(moves.sale_id),
                occurred_at=moves.occurred_at,
            ),
            earned_at=moves.occurred_at,
            release_at=moves.occurred_at + dt.timedelta(days=moves.pending_days),
        )
    return posted


# --- accounts --------------------------------------------------------------------------------


def _member_assets(moves: SaleMoves, earn_now: int) -> list[str]:
    assets = []
    if moves.points_spent or earn_now:
        assets.append(Asset.POINTS)
    if moves.stored_value:
        assets += [Asset.PRINCIPAL, Asset.BONUS]
    return assets


def _accounts(
    member: Member, moves: SaleMoves, earn_now: int
) -> tuple[dict[str, tuple[int, int]], dict[tuple[str, str], int]]:
    """({asset: (id, balance)} of the member's accounts, locked; {(asset, code): id}).

    One statement: the member's rows locked in key order (a CTE, since FOR UPDATE cannot sit
    in a UNION), the system rows only read (they carry no balance, locking them would queue
    every sale of the merchant on one row).
    """
    assets = _member_assets(moves, earn_now)
    codes = sorted({code for _asset, code in _system_pairs(moves, earn_now)})
    if not assets:
        return {}, {}
    rows = rawsql.fetch_all(
        _accounts_statement(len(assets), len(codes)),
        [member.merchant_id, member.pk, *assets, member.merchant_id, *codes],
    )
    mine = {asset: (pk, balance) for pk, asset, balance, code in rows if not code}
    system = {(asset, code): pk for pk, asset, _balance, code in rows if code}
    if earn_now and Asset.POINTS not in mine:  # the member's first points: open the account
        mine[Asset.POINTS] = (services.member_account(member, Asset.POINTS).pk, 0)
    for asset, code in _system_pairs(moves, earn_now):
        if (asset, code) not in system:  # the merchant's first sale of this kind
            system[(asset, code)] = services.system_account(member.merchant_id, asset, code).pk
    return mine, system


@functools.cache
def _accounts_statement(assets: int, codes: int) -> rawsql.Statement:
    return rawsql.Statement(
        "WITH mine AS (SELECT {a.id}, {a.asset}, {a.balance} FROM {a}"
        " WHERE {a.merchant_id} = %s AND {a.owner_type} = '{member}' AND {a.member_id} = %s"
        " AND {a.asset} IN ({assets}) ORDER BY {a.id}{lock})"
        " SELECT {a.id}, {a.asset}, {a.balance}, '' FROM mine UNION ALL"
        " SELECT {a.id}, {a.asset}, 0, {a.system_code} FROM {a}"
        " WHERE {a.merchant_id} = %s AND {a.owner_type} = '{system}'"
        " AND {a.system_code} IN ({codes})",
        a=_ACCOUNT,
        member=OwnerType.MEMBER.value,
        system=OwnerType.SYSTEM.value,
        assets=rawsql.placeholders(assets),
        codes=rawsql.placeholders(codes),
        lock=rawsql.FOR_UPDATE,
    )


def _system_pairs(moves: SaleMoves, earn_now: int) -> list[tuple[str, str]]:
    pairs = []
    if moves.points_spent:
        pairs.append((Asset.POINTS, SystemAccount.REDEEMED))
    if moves.stored_value:
        pairs += [(Asset.PRINCIPAL, SystemAccount.SALES), (Asset.BONUS, SystemAccount.SALES)]
    if earn_now:
        pairs.append((Asset.POINTS, SystemAccount.ISSUED))
    return pairs


# --- legs ------------------------------------------------------------------------------------


def _plan(
    moves: SaleMoves,
    earn_now: int,
    mine: dict[str, tuple[int, int]],
    system: dict[tuple[str, str], int],
) -> _Plan:
    plan = _Plan()
    if moves.points_spent:
        account_id, balance = mine.get(Asset.POINTS, (None, 0))
        if account_id is None or balance < moves.points_spent:
            raise InsufficientFunds(Asset.POINTS, moves.points_spent, balance)
        plan.add(Kind.SPEND, (account_id, Asset.POINTS), -moves.points_spent, True)
        redeemed = system[(Asset.POINTS, SystemAccount.REDEEMED)]
        plan.add(Kind.SPEND, (redeemed, Asset.POINTS), moves.points_spent, False)
    if moves.stored_value:
        _plan_payment(plan, moves, mine, system)
    if earn_now:
        plan.add(Kind.EARN, (mine[Asset.POINTS][0], Asset.POINTS), earn_now, True)
        issued = system[(Asset.POINTS, SystemAccount.ISSUED)]
        plan.add(Kind.EARN, (issued, Asset.POINTS), -earn_now, False)
    return plan


def _plan_payment(
    plan: _Plan,
    moves: SaleMoves,
    mine: dict[str, tuple[int, int]],
    system: dict[tuple[str, str], int],
) -> None:
    """Principal and bonus split per the merchant's rule on the balances just locked (an
    account the member never had counts as zero and is not touched)."""
    principal_id, principal = mine.get(Asset.PRINCIPAL, (None, 0))
    bonus_id, bonus = mine.get(Asset.BONUS, (None, 0))
    amount = moves.stored_value
    if amount > principal + bonus:
        raise InsufficientFunds(Asset.PRINCIPAL, amount, principal + bonus)
    from_principal, from_bonus = split_payment(amount, principal, bonus, moves.payment_split)
    for asset, account_id, part in (
        (Asset.PRINCIPAL, principal_id, from_principal),
        (Asset.BONUS, bonus_id, from_bonus),
    ):
        if part:
            plan.add(Kind.PAY, (account_id, asset), -part, True)
            plan.add(Kind.PAY, (system[(asset, SystemAccount.SALES)], asset), part, False)


# --- writes ----------------------------------------------------------------------------------
#
# Each write is a statement built once per shape (how many rows of what) and its parameters.
# SQLite sends them one by one (six statements after the lock); PostgreSQL sends two, chaining
# them as data-modifying CTEs: the transactions, the balance changes and the usable lots in one;
# the lots taken, the new lot, the lot movements and the entries in the other. The lots are
# read in a statement of their own after the lock: READ COMMITTED takes a statement's snapshot
# at its start, so reading them in the locking statement could miss lots a concurrent sale of
# this member changed while we waited.

Sql = tuple[rawsql.Statement, list]


def _write_one_by_one(
    actor: Actor,
    member: Member,
    moves: SaleMoves,
    plan: _Plan,
    mine: dict[str, tuple[int, int]],
    earn_now: int,
) -> dict[str, int]:
    transactions = _transactions_sql(actor, member, moves, list(plan.legs))
    ids = {kind: pk for pk, kind in rawsql.fetch_all(*transactions)}
    balances = _balances_sql(plan)
    if balances is not None:
        _check_moved(rawsql.execute(*balances), plan, mine)
    taken: list[tuple[int, int]] = []
    if moves.points_spent:
        taken = _take_from(rawsql.fetch_all(*_usable_lots_sql(member, moves)), moves)
        rawsql.execute(*_take_sql(taken))
    new_lot = None
    if earn_now:
        new_lot = rawsql.fetch_one(*_new_lot_sql(member, moves, ids[Kind.EARN], earn_now))[0]
    if taken or earn_now:
        rawsql.execute(*_movements_sql(ids, taken, earn_now, new_lot))
    rawsql.execute(*_entries_sql(member, moves, plan, ids))
    return ids


def _write_combined(
    actor: Actor,
    member: Member,
    moves: SaleMoves,
    plan: _Plan,
    mine: dict[str, tuple[int, int]],
    earn_now: int,
) -> dict[str, int]:
    parts = [
        _transactions_sql(actor, member, moves, list(plan.legs)),
        _balances_sql(plan),
        _usable_lots_sql(member, moves, ranked=True) if moves.points_spent else None,
    ]
    rows = rawsql.fetch_all(_first_combined(*_statements(parts)), _params(parts))
    ids = {kind: pk for tag, pk, _n, kind in rows if tag == "t"}
    if parts[1] is not None:
        _check_moved(next(pk for tag, pk, _n, _k in rows if tag == "m"), plan, mine)
    taken: list[tuple[int, int]] = []
    if moves.points_spent:
        usable = sorted((int(rank), pk, left) for tag, pk, left, rank in rows if tag == "l")
        taken = _take_from([(pk, left) for _rank, pk, left in usable], moves)
    parts = [
        _take_sql(taken) if taken else None,
        _new_lot_sql(member, moves, ids[Kind.EARN], earn_now) if earn_now else None,
        _movements_sql(ids, taken, earn_now, None) if taken or earn_now else None,
        _entries_sql(member, moves, plan, ids),
    ]
    rawsql.execute(_second_combined(*_statements(parts)), _params(parts))
    return ids


def _statements(parts: list[Sql | None]) -> list[rawsql.Statement | None]:
    return [None if part is None else part[0] for part in parts]


def _params(parts: list[Sql | None]) -> list:
    return [value for part in parts if part is not None for value in part[1]]


# Keyed by the statements of their parts, each built once per shape: built once per shape too.
@functools.cache
def _first_combined(
    transactions: rawsql.Statement,
    balances: rawsql.Statement | None,
    lots: rawsql.Statement | None,
) -> rawsql.Statement:
    """Transactions, balance changes, usable lots; rows tagged 't' (id, kind), 'm' (how many
    balances moved), 'l' (lot id, remaining, rank)."""
    ctes = ["txn AS ({transactions})"]
    answer = ["SELECT 't', {t.id}, 0, {t.kind}::text FROM txn"]
    if balances is not None:
        ctes.append("moved AS ({balances} RETURNING {a.id})")
        answer.append("SELECT 'm', count(*), 0, '' FROM moved")
    if lots is not None:
        answer.append("SELECT 'l', {lot.id}, {lot.remaining}, rank::text FROM ({lots}) usable")
    return rawsql.Statement(
        "WITH " + ", ".join(ctes) + " " + " UNION ALL ".join(answer),
        transactions=transactions,
        balances=balances,
        lots=lots,
        t=_TRANSACTION,
        a=_ACCOUNT,
        lot=_LOT,
    )


@functools.cache
def _second_combined(
    take: rawsql.Statement | None,
    new_lot: rawsql.Statement | None,
    movements: rawsql.Statement | None,
    entries: rawsql.Statement,
) -> rawsql.Statement:
    """Lots taken, the new lot, the lot movements (reading the new lot's id from its CTE) and
    the entries."""
    ctes = []
    if take is not None:
        ctes.append("taken AS ({take})")
    if new_lot is not None:
        ctes.append("lot AS ({new_lot})")
    if movements is not None:
        ctes.append("movements AS ({movements})")
    template = "WITH " + ", ".join(ctes) + " {entries}" if ctes else "{entries}"
    return rawsql.Statement(
        template, take=take, new_lot=new_lot, movements=movements, entries=entries
    )


def _transactions_sql(actor: Actor, member: Member, moves: SaleMoves, kinds: list[str]) -> Sql:
    """One multi-row INSERT, one transaction per kind, returning (id, kind)."""
    now = rawsql.db_datetime(timezone.now())
    occurred_at = rawsql.db_datetime(moves.occurred_at)
    user = actor.user
    params: list = []
    for kind in kinds:
        row = {
            "merchant_id": member.merchant_id,
            "kind": kind,
            "idempotency_key": f"sale:{moves.sale_id}:{KEY_SUFFIX[kind]}",
            "member_id": member.pk,
            "store_id": moves.store.pk if moves.store is not None else None,
            "user_id": user.pk if user is not None else None,
            "api_key_id": actor.api_key.pk if actor.api_key is not None else None,
            "channel": actor.channel,
            "ip": actor.ip,
            "reason": REASONS[kind],
            "source": "sale",
            "source_ref": str(moves.sale_id),
            "reverses_id": None,
            "occurred_at": occurred_at,
            "created_at": now,
        }
        params += [row[column] for column in TRANSACTION_COLUMNS]
    statement = rawsql.insert(Transaction, TRANSACTION_COLUMNS, len(kinds), ("id", "kind"))
    return statement, params


def _balances_sql(plan: _Plan) -> Sql | None:
    """One guarded UPDATE for every member account that changes: each must keep at least
    what this sale takes out of it (the rows are locked, so this only fails on a bug)."""
    changed = sorted(pk for pk, change in plan.changes.items() if change)
    if not changed:
        return None
    params: list = []
    for pk in changed:
        params += [pk, plan.changes[pk]]
    for pk in changed:
        params += [pk, plan.taken.get(pk, 0)]
    params += changed
    return _balances_statement(len(changed)), params


@functools.cache
def _balances_statement(count: int) -> rawsql.Statement:
    cases = " ".join(["WHEN %s THEN %s"] * count)
    return rawsql.Statement(
        "UPDATE {a} SET {a.balance} = {a.balance} + CASE {a.id} {cases} END"
        " WHERE {a.balance} >= CASE {a.id} {cases} END AND {a.id} IN ({ids})",
        a=_ACCOUNT,
        cases=cases,
        ids=rawsql.placeholders(count),
    )


def _check_moved(moved: int, plan: _Plan, mine: dict[str, tuple[int, int]]) -> None:
    changed = {pk for pk, change in plan.changes.items() if change}
    if moved != len(changed):
        asset = next(asset for asset, (pk, _b) in mine.items() if pk in changed)
        raise InsufficientFunds(asset, sum(plan.taken.values()), 0)


# FIFO: the lot that expires first is spent first; lots that never expire last.
_LOT_ORDER = rawsql.Statement(
    "({lot.expires_at} IS NULL), {lot.expires_at}, {lot.earned_at}, {lot.id}", lot=_LOT
)
_USABLE_LOTS = (
    "SELECT {lot.id}, {lot.remaining}{rank} FROM {lot} WHERE {lot.member_id} = %s"
    " AND {lot.remaining} > 0 AND ({lot.expires_at} > %s OR {lot.expires_at} IS NULL)"
    " ORDER BY {order}"
)
USABLE_LOTS = rawsql.Statement(_USABLE_LOTS, lot=_LOT, order=_LOT_ORDER, rank="")
# With each lot's place in that order as a column (a UNION ALL does not keep a branch's order).
RANKED_USABLE_LOTS = rawsql.Statement(
    _USABLE_LOTS,
    lot=_LOT,
    order=_LOT_ORDER,
    rank=rawsql.Statement(", row_number() OVER (ORDER BY {order}) AS rank", order=_LOT_ORDER),
)


def _usable_lots_sql(member: Member, moves: SaleMoves, ranked: bool = False) -> Sql:
    """The member's lots that can be spent, in the order they are spent."""
    statement = RANKED_USABLE_LOTS if ranked else USABLE_LOTS
    return statement, [member.pk, rawsql.db_datetime(moves.occurred_at)]


def _take_from(lots: list[tuple[int, int]], moves: SaleMoves) -> list[tuple[int, int]]:
    """(lot id, points taken) from the usable lots in order, until the spend is covered."""
    taken, left = [], moves.points_spent
    for lot_id, remaining in lots:
        if left == 0:
            break
        take = min(remaining, left)
        taken.append((lot_id, take))
        left -= take
    if left:  # points that expired but were not swept yet cannot be spent
        raise InsufficientFunds(Asset.POINTS, moves.points_spent, moves.points_spent - left)
    return taken


def _take_sql(taken: list[tuple[int, int]]) -> Sql:
    params = [value for pair in taken for value in pair]
    return _take_statement(len(taken)), params + [lot_id for lot_id, _take in taken]


@functools.cache
def _take_statement(count: int) -> rawsql.Statement:
    return rawsql.Statement(
        "UPDATE {lot} SET {lot.remaining} = {lot.remaining} - CASE {lot.id} {cases} END"
        " WHERE {lot.id} IN ({ids})",
        lot=_LOT,
        cases=" ".join(["WHEN %s THEN %s"] * count),
        ids=rawsql.placeholders(count),
    )


NEW_LOT = rawsql.insert(PointsLot, _LOT_COLUMNS, returning=("id",))


def _new_lot_sql(member: Member, moves: SaleMoves, earn_id: int, points: int) -> Sql:
    """The lot the earned points make, returning its id."""
    expires_at = lot_expires_at(moves.expiry, moves.occurred_at, member.merchant.timezone)
    return NEW_LOT, [
        member.merchant_id,
        member.pk,
        earn_id,
        rawsql.db_datetime(moves.occurred_at),
        None if expires_at is None else rawsql.db_datetime(expires_at),
        points,
        points,
    ]


def _movements_sql(
    ids: dict[str, int], taken: list[tuple[int, int]], earn_now: int, new_lot: int | None
) -> Sql:
    """Each lot change as a movement; the earned lot's id is `new_lot`, or read from the
    `lot` CTE when None."""
    params: list = []
    for lot_id, take in taken:
        params += [lot_id, ids[Kind.SPEND], -take]
    lot = "none"
    if earn_now:
        lot = "cte" if new_lot is None else "param"
        params += ([] if new_lot is None else [new_lot]) + [ids[Kind.EARN], earn_now]
    return _movements_statement(len(taken), lot), params


@functools.cache
def _movements_statement(taken: int, new_lot: str) -> rawsql.Statement:
    """`taken` movements out of lots, and one into the new lot unless `new_lot` is "none":
    its id a parameter ("param") or read from the `lot` CTE ("cte")."""
    values: list[str | rawsql.Statement] = ["(%s, %s, %s)"] * taken
    if new_lot == "param":
        values.append("(%s, %s, %s)")
    elif new_lot == "cte":
        values.append(rawsql.Statement("((SELECT {lot.id} FROM lot), %s, %s)", lot=_LOT))
    return rawsql.Statement(
        "INSERT INTO {m} ({columns}) VALUES {values}",
        m=rawsql.Table(LotMovement),
        columns=rawsql.Columns(LotMovement, ("lot_id", "transaction_id", "amount")),
        values=rawsql.joined(values, ", "),
    )


def _entries_sql(member: Member, moves: SaleMoves, plan: _Plan, ids: dict[str, int]) -> Sql:
    """Every leg as an entry (`ENTRY_COLUMNS` order); the member's side names the member."""
    occurred_at = rawsql.db_datetime(moves.occurred_at)
    params: list = []
    for kind, legs in plan.legs.items():
        for account_id, asset, amount, mine in legs:
            params += [ids[kind], account_id, asset, amount, member.pk if mine else None]
            params.append(occurred_at)
    return rawsql.insert(Entry, ENTRY_COLUMNS, len(params) // len(ENTRY_COLUMNS)), params
