"""The ledger's hot path as three fixed, parameterised statements.

`post()` runs for every sale, top-up and expiry, so it skips the ORM's query compilation
(measured as most of its cost in bench/ledger.py) and sends plain SQL that works unchanged on
SQLite (>= 3.35, for RETURNING) and PostgreSQL. Everything else in the ledger uses the ORM.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import connection
from django.utils import timezone

TRANSACTION_COLUMNS = (
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
)
INSERT_TRANSACTION = (
    f"INSERT INTO ledger_transaction ({', '.join(TRANSACTION_COLUMNS)}) "
    f"VALUES ({', '.join(['%s'] * len(TRANSACTION_COLUMNS))}) RETURNING id"
)
MOVE_BALANCE = "UPDATE ledger_account SET balance = balance + %s WHERE id = %s AND balance >= %s"
ENTRY_COLUMNS = "(transaction_id, account_id, asset, amount, member_id, occurred_at)"


def _db_datetime(value: dt.datetime):
    return connection.ops.adapt_datetimefield_value(value)


def insert_transaction(values: dict) -> tuple[int, dt.datetime]:
    created_at = timezone.now()
    row = {**values, "created_at": created_at}
    params = [
        _db_datetime(row[c]) if c in ("occurred_at", "created_at") else row[c]
        for c in TRANSACTION_COLUMNS
    ]
    with connection.cursor() as cursor:
        cursor.execute(INSERT_TRANSACTION, params)
        return cursor.fetchone()[0], created_at


def move_balance(account_id: int, change: int) -> bool:
    """Add `change` unless that takes the balance below zero; takes the row lock."""
    with connection.cursor() as cursor:
        cursor.execute(MOVE_BALANCE, [change, account_id, -change])
        return cursor.rowcount == 1


def insert_entries(rows: Sequence[tuple[int, int, str, int, int | None, dt.datetime]]) -> None:
    placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
    params: list = []
    for transaction_id, account_id, asset, amount, member_id, occurred_at in rows:
        params += [transaction_id, account_id, asset, amount, member_id, _db_datetime(occurred_at)]
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO ledger_entry {ENTRY_COLUMNS} VALUES {placeholders}", params)
