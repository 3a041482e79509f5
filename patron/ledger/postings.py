"""A sale's ledger movements in a handful of fixed statements (checkout's hot path).

A sale moves up to three things for one member in its database transaction: points spent (the
cash offset), stored value paid and points earned. Posted one by one through `post()` they
cost ~38 statements (each posting re-read the accounts and the ledger policy and opened two
savepoints; bench/sales.py measured them at over half of a sale's time). Here the member's
accounts are locked and read once, together with the system accounts, and the transactions,
their entries, the balance changes and the lot bookkeeping go out as multi-row statements:
for a sale that spends, pays and earns, eight statements on SQLite and three on PostgreSQL
(which chains them as data-modifying CTEs).

The rows written are exactly the ones `spend_points`, `pay_stored_value` and `earn_points`
write — same kinds, keys, legs, reasons, lots and lot movements — so refunds, reversals,
statements and `reconcile` cannot tell them apart. Every rule of `post()` holds: entries
balance per asset, member balances never go below zero (checked under the row locks and again
by the guarded UPDATE), and the member's accounts are locked in primary-key order.
"""

from __future__ import annotations

import datetime as dt
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
from patron.ledger.models import Asset, PointsHold, SystemAccount, Transaction
from patron.ledger.sql import TRANSACTION_COLUMNS
from patron.tenancy.actor import Actor
from patron.tenancy.models import Store

if TYPE_CHECKING:
    from patron.members.models import Member

Kind = Transaction.Kind
REASONS = {Kind.SPEND: "points offset", Kind.PAY: "stored value payment", Kind.EARN: "sale"}
KEY_SUFFIX = {Kind.SPEND: "spend", Kind.PAY: "pay", Kind.EARN: "earn"}


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
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    rows = rawsql.fetch_all(
        "WITH mine AS (SELECT id, asset, balance FROM ledger_account"
        " WHERE merchant_id = %s AND owner_type = 'member' AND member_id = %s"
        f" AND asset IN ({rawsql.placeholders(len(assets))}) ORDER BY id{lock})"
        " SELECT id, asset, balance, '' FROM mine UNION ALL"
        " SELECT id, asset, 0, system_code FROM ledger_account"
        " WHERE merchant_id = %s AND owner_type = 'system'"
        f" AND system_code IN ({rawsql.placeholders(len(codes))})",
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
# Each write is built as (sql, params). SQLite sends them one by one (six statements after the
# lock); PostgreSQL sends two, chaining them as data-modifying CTEs: the transactions, the
# balance changes and the usable lots in one; the lots taken, the new lot, the lot movements
# and the entries in the other. The lots are read in a statement of their own after the lock:
# READ COMMITTED takes a statement's snapshot at its start, so reading them in the locking
# statement could miss lots a concurrent sale of this member changed while we waited.

Sql = tuple[str, list]


def _write_one_by_one(
    actor: Actor,
    member: Member,
    moves: SaleMoves,
    plan: _Plan,
    mine: dict[str, tuple[int, int]],
    earn_now: int,
) -> dict[str, int]:
    sql, params = _transactions_sql(actor, member, moves, list(plan.legs))
    ids = {kind: pk for pk, kind in rawsql.fetch_all(sql + " RETURNING id, kind", params)}
    balances = _balances_sql(plan)
    if balances is not None:
        _check_moved(rawsql.execute(*balances), plan, mine)
    taken: list[tuple[int, int]] = []
    if moves.points_spent:
        taken = _take_from(rawsql.fetch_all(*_usable_lots_sql(member, moves)), moves)
        rawsql.execute(*_take_sql(taken))
    new_lot = "%s"
    lot_params: list = []
    if earn_now:
        sql, params = _new_lot_sql(member, moves, ids[Kind.EARN], earn_now)
        lot_params = [rawsql.fetch_one(sql + " RETURNING id", params)[0]]
    if taken or earn_now:
        rawsql.execute(*_movements_sql(ids, taken, earn_now, new_lot, lot_params))
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
    sql, params = _transactions_sql(actor, member, moves, list(plan.legs))
    ctes = [f"txn AS ({sql} RETURNING id, kind)"]
    answer = ["SELECT 't', id, 0, kind::text FROM txn"]
    balances = _balances_sql(plan)
    if balances is not None:
        ctes.append(f"moved AS ({balances[0]} RETURNING id)")
        params += balances[1]
        answer.append("SELECT 'm', count(*), 0, '' FROM moved")
    if moves.points_spent:
        lots, lot_params = _usable_lots_sql(member, moves, ranked=True)
        answer.append(f"SELECT 'l', id, remaining, rank::text FROM ({lots}) usable")
        params += lot_params
    rows = rawsql.fetch_all(f"WITH {', '.join(ctes)} {' UNION ALL '.join(answer)}", params)
    ids = {kind: pk for tag, pk, _n, kind in rows if tag == "t"}
    if balances is not None:
        _check_moved(next(pk for tag, pk, _n, _k in rows if tag == "m"), plan, mine)
    taken: list[tuple[int, int]] = []
    if moves.points_spent:
        usable = sorted((int(rank), pk, left) for tag, pk, left, rank in rows if tag == "l")
        taken = _take_from([(pk, left) for _rank, pk, left in usable], moves)

    ctes, params = [], []
    if taken:
        sql, take_params = _take_sql(taken)
        ctes.append(f"taken AS ({sql})")
        params += take_params
    if earn_now:
        sql, lot_params = _new_lot_sql(member, moves, ids[Kind.EARN], earn_now)
        ctes.append(f"lot AS ({sql} RETURNING id)")
        params += lot_params
    if taken or earn_now:
        sql, movement_params = _movements_sql(ids, taken, earn_now, "(SELECT id FROM lot)", [])
        ctes.append(f"movements AS ({sql})")
        params += movement_params
    sql, entry_params = _entries_sql(member, moves, plan, ids)
    rawsql.execute(f"WITH {', '.join(ctes)} {sql}" if ctes else sql, params + entry_params)
    return ids


def _transactions_sql(actor: Actor, member: Member, moves: SaleMoves, kinds: list[str]) -> Sql:
    """One multi-row INSERT, one transaction per kind (the caller adds RETURNING id, kind)."""
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
    values = ", ".join([f"({rawsql.placeholders(len(TRANSACTION_COLUMNS))})"] * len(kinds))
    return (
        f"INSERT INTO ledger_transaction ({', '.join(TRANSACTION_COLUMNS)}) VALUES {values}",
        params,
    )


def _balances_sql(plan: _Plan) -> Sql | None:
    """One guarded UPDATE for every member account that changes: each must keep at least
    what this sale takes out of it (the rows are locked, so this only fails on a bug)."""
    changed = sorted(pk for pk, change in plan.changes.items() if change)
    if not changed:
        return None
    change_case = " ".join("WHEN %s THEN %s" for _ in changed)
    taken_case = " ".join("WHEN %s THEN %s" for _ in changed)
    params: list = []
    for pk in changed:
        params += [pk, plan.changes[pk]]
    for pk in changed:
        params += [pk, plan.taken.get(pk, 0)]
    params += changed
    return (
        f"UPDATE ledger_account SET balance = balance + CASE id {change_case} END"
        f" WHERE balance >= CASE id {taken_case} END"
        f" AND id IN ({rawsql.placeholders(len(changed))})",
        params,
    )


def _check_moved(moved: int, plan: _Plan, mine: dict[str, tuple[int, int]]) -> None:
    changed = {pk for pk, change in plan.changes.items() if change}
    if moved != len(changed):
        asset = next(asset for asset, (pk, _b) in mine.items() if pk in changed)
        raise InsufficientFunds(asset, sum(plan.taken.values()), 0)


LOT_ORDER = "(expires_at IS NULL), expires_at, earned_at, id"


def _usable_lots_sql(member: Member, moves: SaleMoves, ranked: bool = False) -> Sql:
    """The member's lots that can be spent, oldest expiry first (FIFO); `ranked` adds their
    place in that order as a column (a UNION ALL does not keep a branch's order)."""
    rank = f", row_number() OVER (ORDER BY {LOT_ORDER}) AS rank" if ranked else ""
    return (
        f"SELECT id, remaining{rank} FROM ledger_pointslot WHERE member_id = %s AND remaining > 0"
        f" AND (expires_at > %s OR expires_at IS NULL) ORDER BY {LOT_ORDER}",
        [member.pk, rawsql.db_datetime(moves.occurred_at)],
    )


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
    cases = " ".join("WHEN %s THEN %s" for _ in taken)
    params = [value for pair in taken for value in pair]
    return (
        f"UPDATE ledger_pointslot SET remaining = remaining - CASE id {cases} END"
        f" WHERE id IN ({rawsql.placeholders(len(taken))})",
        params + [lot_id for lot_id, _take in taken],
    )


def _new_lot_sql(member: Member, moves: SaleMoves, earn_id: int, points: int) -> Sql:
    """The lot the earned points make (the caller adds RETURNING id)."""
    expires_at = lot_expires_at(moves.expiry, moves.occurred_at, member.merchant.timezone)
    return (
        "INSERT INTO ledger_pointslot"
        " (merchant_id, member_id, earned_by_id, earned_at, expires_at, amount, remaining)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        [
            member.merchant_id,
            member.pk,
            earn_id,
            rawsql.db_datetime(moves.occurred_at),
            None if expires_at is None else rawsql.db_datetime(expires_at),
            points,
            points,
        ],
    )


def _movements_sql(
    ids: dict[str, int],
    taken: list[tuple[int, int]],
    earn_now: int,
    new_lot: str,
    new_lot_params: list,
) -> Sql:
    """Each lot change as a movement; `new_lot` is the SQL for the earned lot's id (a
    placeholder with its value in `new_lot_params`, or a sub-select of the CTE)."""
    values: list[str] = []
    params: list = []
    for lot_id, take in taken:
        values.append("(%s, %s, %s)")
        params += [lot_id, ids[Kind.SPEND], -take]
    if earn_now:
        values.append(f"({new_lot}, %s, %s)")
        params += [*new_lot_params, ids[Kind.EARN], earn_now]
    sql = "INSERT INTO ledger_lotmovement (lot_id, transaction_id, amount) VALUES "
    return sql + ", ".join(values), params


def _entries_sql(member: Member, moves: SaleMoves, plan: _Plan, ids: dict[str, int]) -> Sql:
    occurred_at = rawsql.db_datetime(moves.occurred_at)
    params: list = []
    for kind, legs in plan.legs.items():
        for account_id, asset, amount, mine in legs:
            params += [ids[kind], account_id, asset, amount, member.pk if mine else None]
            params.append(occurred_at)
    rows = len(params) // 6
    return (
        "INSERT INTO ledger_entry"
        " (transaction_id, account_id, asset, amount, member_id, occurred_at)"
        f" VALUES {', '.join(['(%s, %s, %s, %s, %s, %s)'] * rows)}",
        params,
    )
