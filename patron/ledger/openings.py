"""Opening balances brought from another system, posted in bulk (API.md §7, docs/moving-in.md).

A merchant moving in brings, per member, points (with their expiry), stored value principal and
bonus. Each is posted once as a `migration` transaction: the member's account receives the
amount, the merchant's `migration` system account of that asset gives it, and a points opening
becomes one lot. The key `migration:<member id>:<asset>` makes posting idempotent: an asset
already posted for a member is left alone, whatever amount is asked the second time.

`post()` handles one transaction at a time (a lock, a guarded UPDATE, two inserts): right for
a till, about a minute for 100,000 members. Here the same rows — transactions, entries, cached
balances, lots and lot movements, exactly as `post()` and `earn_points` write them — go out as
multi-row inserts, with a bounded number of parameters per statement (PostgreSQL takes at most
65,535). Amounts are never negative, so no balance can go below zero; member accounts that
already exist are moved by the same guarded UPDATE as `post()`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from patron.core import rawsql
from patron.engine.points import lot_expires_at
from patron.ledger import services, sql
from patron.ledger.models import (
    Account,
    Asset,
    Entry,
    LotMovement,
    OwnerType,
    PointsLot,
    SystemAccount,
    Transaction,
)
from patron.tenancy.actor import Actor

SOURCE = "import"  # read as "Opening balance" (ledger.references)
REASON = "opening balance"
ASSETS = (Asset.POINTS, Asset.PRINCIPAL, Asset.BONUS)
CHUNK = 5000  # ids per look-up
# Values per multi-row INSERT: under SQLite's 32,766 and PostgreSQL's 65,535 parameters.
PARAMS_PER_STATEMENT = 30_000


@dataclass(frozen=True)
class Opening:
    """What one member brings. `points_expires_at` None: the merchant's expiry policy from
    the moment of posting."""

    member_id: int
    points: int = 0
    principal: int = 0
    bonus: int = 0
    points_expires_at: dt.datetime | None = None

    def amounts(self) -> Iterable[tuple[str, int]]:
        return (
            (Asset.POINTS, self.points),
            (Asset.PRINCIPAL, self.principal),
            (Asset.BONUS, self.bonus),
        )


def insert_rows(model: type, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Multi-row INSERTs of database-ready values (datetimes through `rawsql.db_datetime`): one
    statement per few thousand rows, where `executemany` would send one per row."""
    per_statement = max(1, PARAMS_PER_STATEMENT // len(columns))
    names = tuple(columns)
    batch: list[object] = []
    count = 0
    for row in rows:
        batch.extend(row)
        count += 1
        if count == per_statement:
            rawsql.execute(rawsql.insert(model, names, count), batch)
            batch, count = [], 0
    if count:
        rawsql.execute(rawsql.insert(model, names, count), batch)


def opening_key(member_id: int, asset: str) -> str:
    return f"migration:{member_id}:{asset}"


def post_openings(
    actor: Actor, openings: Sequence[Opening], *, occurred_at: dt.datetime | None = None
) -> int:
    """Post every positive amount of `openings` not posted before; returns how many
    transactions were written. Raises ValueError for a negative amount (callers check)."""
    for opening in openings:
        if any(amount < 0 for _asset, amount in opening.amounts()):
            raise ValueError("opening balances cannot be negative")
    merchant = actor.merchant
    now = occurred_at or timezone.now()
    at = rawsql.db_datetime(now)
    wanted = [
        (opening, asset, amount)
        for opening in openings
        for asset, amount in opening.amounts()
        if amount > 0
    ]
    if not wanted:
        return 0
    with transaction.atomic():
        done = posted_keys(merchant.pk, [opening.member_id for opening, _a, _n in wanted])
        todo = [w for w in wanted if opening_key(w[0].member_id, w[1]) not in done]
        if not todo:
            return 0
        accounts = member_accounts(merchant.pk, todo)
        system = {
            asset: services.system_account(merchant, asset, SystemAccount.MIGRATION).pk
            for asset in sorted({asset for _o, asset, _n in todo})
        }
        ids = insert_transactions(actor, todo, at)
        insert_rows(
            Entry,
            sql.ENTRY_COLUMNS,
            (
                row
                for opening, asset, amount in todo
                for row in (
                    (
                        ids[opening_key(opening.member_id, asset)],
                        accounts[(opening.member_id, asset)],
                        asset,
                        amount,
                        opening.member_id,
                        at,
                    ),
                    (
                        ids[opening_key(opening.member_id, asset)],
                        system[asset],
                        asset,
                        -amount,
                        None,
                        at,
                    ),
                )
            ),
        )
        insert_lots(actor, [(o, n) for o, asset, n in todo if asset == Asset.POINTS], ids, now)
    return len(todo)


def posted_keys(merchant_id: int, member_ids: list[int]) -> set[str]:
    """Keys of migration transactions already posted for these members."""
    low, high = min(member_ids), max(member_ids)
    return set(
        Transaction.objects.filter(
            merchant_id=merchant_id,
            kind=Transaction.Kind.MIGRATION,
            member_id__gte=low,
            member_id__lte=high,
        ).values_list("idempotency_key", flat=True)
    )


def member_accounts(
    merchant_id: int, todo: list[tuple[Opening, str, int]]
) -> dict[tuple[int, str], int]:
    """(member id, asset) -> account id, with balances moved by the amounts: new accounts are
    inserted holding them, existing ones moved by `post()`'s guarded UPDATE in key order."""
    member_ids = sorted({opening.member_id for opening, _a, _n in todo})
    found = account_ids(merchant_id, member_ids)
    amounts = {(opening.member_id, asset): amount for opening, asset, amount in todo}
    existing = sorted((found[key], amount) for key, amount in amounts.items() if key in found)
    for account_id, amount in existing:
        sql.move_balance(account_id, amount)
    fresh = [(key, amount) for key, amount in amounts.items() if key not in found]
    if fresh:
        insert_rows(
            Account,
            ["merchant_id", "asset", "owner_type", "member_id", "system_code", "balance"],
            (
                (merchant_id, asset, OwnerType.MEMBER, member_id, "", amount)
                for (member_id, asset), amount in fresh
            ),
        )
        found = account_ids(merchant_id, member_ids)
    return found


def account_ids(merchant_id: int, member_ids: list[int]) -> dict[tuple[int, str], int]:
    found: dict[tuple[int, str], int] = {}
    for start in range(0, len(member_ids), CHUNK):
        chunk = member_ids[start : start + CHUNK]
        rows = Account.objects.filter(
            merchant_id=merchant_id,
            owner_type=OwnerType.MEMBER,
            member_id__gte=chunk[0],
            member_id__lte=chunk[-1],
        ).values_list("member_id", "asset", "pk")
        found.update({(member_id, asset): pk for member_id, asset, pk in rows})
    return found


def insert_transactions(
    actor: Actor, todo: list[tuple[Opening, str, int]], at: object
) -> dict[str, int]:
    """One migration transaction per member and asset; returns key -> transaction id."""
    columns = [
        "merchant_id",
        "kind",
        "idempotency_key",
        "member_id",
        "store_id",
        "user_id",
        "api_key_id",
        "channel",
        "ip",
        "reason",
        "source",
        "source_ref",
        "reverses_id",
        "occurred_at",
        "created_at",
    ]
    merchant_id = actor.merchant.pk
    user_id = actor.user.pk if actor.user else None
    api_key_id = actor.api_key.pk if actor.api_key else None
    store_id = actor.store.pk if actor.store else None
    insert_rows(
        Transaction,
        columns,
        (
            (
                merchant_id,
                Transaction.Kind.MIGRATION,
                opening_key(opening.member_id, asset),
                opening.member_id,
                store_id,
                user_id,
                api_key_id,
                actor.channel,
                actor.ip,
                REASON,
                SOURCE,
                "",
                None,
                at,
                at,
            )
            for opening, asset, _amount in todo
        ),
    )
    member_ids = sorted({opening.member_id for opening, _a, _n in todo})
    return {
        key: pk
        for key, pk in Transaction.objects.filter(
            merchant_id=merchant_id,
            kind=Transaction.Kind.MIGRATION,
            member_id__gte=member_ids[0],
            member_id__lte=member_ids[-1],
        ).values_list("idempotency_key", "pk")
    }


def insert_lots(
    actor: Actor, points: list[tuple[Opening, int]], ids: dict[str, int], now: dt.datetime
) -> None:
    """One lot per points opening, expiring when given or by the merchant's policy."""
    if not points:
        return
    merchant = actor.merchant
    by_policy = lot_expires_at(services.expiry_policy(merchant), now, merchant.timezone)
    earned_by = [ids[opening_key(opening.member_id, Asset.POINTS)] for opening, _n in points]
    earned_at = rawsql.db_datetime(now)
    expiries: dict[dt.datetime | None, object] = {}

    def expires(moment: dt.datetime | None) -> object:
        if moment not in expiries:
            expiries[moment] = rawsql.db_datetime(moment) if moment is not None else None
        return expiries[moment]

    insert_rows(
        PointsLot,
        [
            "merchant_id",
            "member_id",
            "earned_by_id",
            "earned_at",
            "expires_at",
            "amount",
            "remaining",
        ],
        (
            (
                merchant.pk,
                opening.member_id,
                txn_id,
                earned_at,
                expires(opening.points_expires_at or by_policy),
                amount,
                amount,
            )
            for (opening, amount), txn_id in zip(points, earned_by, strict=True)
        ),
    )
    lots = dict(
        PointsLot.objects.filter(
            merchant=merchant, earned_by_id__gte=min(earned_by), earned_by_id__lte=max(earned_by)
        ).values_list("earned_by_id", "pk")
    )
    insert_rows(
        LotMovement,
        ["lot_id", "transaction_id", "amount"],
        (
            (lots[txn_id], txn_id, amount)
            for (_o, amount), txn_id in zip(points, earned_by, strict=True)
        ),
    )
