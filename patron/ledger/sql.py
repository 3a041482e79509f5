"""The ledger's fixed statements: `post()`'s three, and the fragments other apps' statements
include to read the ledger's tables (a member's balance, the merchant's policy).

`post()` runs for every top-up, expiry and adjustment, so it sends plain SQL instead of building
queries; the statements work unchanged on SQLite (>= 3.35, for RETURNING) and PostgreSQL.
Everything else in the ledger uses the ORM.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence

from django.utils import timezone

from patron.core import rawsql
from patron.ledger.models import Account, Entry, LedgerPolicy, OwnerType, Transaction

TRANSACTION_COLUMNS = rawsql.insert_fields(Transaction)
# The order entries' values are passed in (`insert_entries`, `postings`).
ENTRY_COLUMNS = ("transaction_id", "account_id", "asset", "amount", "member_id", "occurred_at")
_ACCOUNT = rawsql.Table(Account)

INSERT_TRANSACTION = rawsql.insert(Transaction, TRANSACTION_COLUMNS, returning=("id",))
MOVE_BALANCE = rawsql.Statement(
    "UPDATE {a} SET {a.balance} = {a.balance} + %s WHERE {a.id} = %s AND {a.balance} >= %s",
    a=_ACCOUNT,
)
_DATETIMES = ("occurred_at", "created_at")
# Read through `Model.objects.raw()` (model instances, no query compiling).
POLICY = rawsql.Statement(
    "SELECT * FROM {p} WHERE {p.merchant_id} = %s", p=rawsql.Table(LedgerPolicy)
)


@functools.cache
def accounts_statement(member_assets: int, system_assets: int, codes: int) -> rawsql.Statement:
    """The accounts a posting needs: the member's of some assets and system accounts of some
    assets and codes (parameters: merchant, member, then each list's values)."""

    def among(count: int) -> str:
        return rawsql.placeholders(count) or "NULL"

    return rawsql.Statement(
        "SELECT * FROM {a} WHERE {a.merchant_id} = %s AND ("
        "({a.owner_type} = '{member}' AND {a.member_id} = %s AND {a.asset} IN ({member_assets}))"
        " OR ({a.owner_type} = '{system}' AND {a.asset} IN ({system_assets})"
        " AND {a.system_code} IN ({codes})))",
        a=_ACCOUNT,
        member=OwnerType.MEMBER.value,
        system=OwnerType.SYSTEM.value,
        member_assets=among(member_assets),
        system_assets=among(system_assets),
        codes=among(codes),
    )


def insert_transaction(values: dict) -> tuple[int, dt.datetime]:
    created_at = timezone.now()
    row = {**values, "created_at": created_at}
    params = [
        rawsql.db_datetime(row[c]) if c in _DATETIMES else row[c] for c in TRANSACTION_COLUMNS
    ]
    return rawsql.fetch_one(INSERT_TRANSACTION, params)[0], created_at


def move_balance(account_id: int, change: int) -> bool:
    """Add `change` unless that takes the balance below zero; takes the row lock."""
    return rawsql.execute(MOVE_BALANCE, [change, account_id, -change]) == 1


def insert_entries(rows: Sequence[tuple[int, int, str, int, int | None, dt.datetime]]) -> None:
    """Entries as (transaction_id, account_id, asset, amount, member_id, occurred_at)."""
    params: list = []
    for transaction_id, account_id, asset, amount, member_id, occurred_at in rows:
        params += [transaction_id, account_id, asset, amount, member_id]
        params.append(rawsql.db_datetime(occurred_at))
    rawsql.execute(rawsql.insert(Entry, ENTRY_COLUMNS, len(rows)), params)


# --- fragments for other apps' statements ----------------------------------------------------


def member_balance(
    assets: Sequence[str], *, merchant_id: rawsql.Column, member_id: rawsql.Column
) -> rawsql.Fragment:
    """A scalar sub-query: what the member holds of `assets` together (0 without accounts),
    read from the cached balances of the member's accounts."""
    asset = "= %s" if len(assets) == 1 else f"IN ({rawsql.placeholders(len(assets))})"
    account = rawsql.Table(Account, "a")
    statement = rawsql.Statement(
        "(SELECT COALESCE(SUM({a.balance}), 0) FROM {a} WHERE {a.merchant_id} = {merchant_id}"
        " AND {a.member_id} = {member_id} AND {a.owner_type} = '{member}' AND {a.asset} {asset})",
        a=account,
        merchant_id=merchant_id,
        member_id=member_id,
        member=OwnerType.MEMBER.value,
        asset=asset,
    )
    return rawsql.Fragment(statement, tuple(assets))


def policy_join(merchant_id: rawsql.Column) -> rawsql.Join:
    """The merchant's ledger policy joined as `lp`: its points policy (JSON) and payment split,
    NULL when the merchant has none (the defaults apply)."""
    policy = rawsql.Table(LedgerPolicy, "lp")
    return rawsql.left_join(policy, ("points", "payment_split"), key="merchant_id", to=merchant_id)
