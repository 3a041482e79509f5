"""Model instances from hand-written SQL, for the few hot paths that skip query compiling.

Building a query through the ORM costs about a millisecond of Python per statement on our
machines (measured in bench/sales.py: two thirds of a sale's Python time went to compiling
queries); sending a fixed statement costs a tenth of that. The helpers here let such a
statement select the columns of one or more models in one row and turn each slice back into a
model instance exactly as the ORM would (same database converters: SQLite's text datetimes
become aware datetimes, JSON text becomes Python objects), so the rest of the code cannot tell
the difference.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, models

M = TypeVar("M", bound=models.Model)


@functools.cache
def _fields(model: type[models.Model]) -> tuple[models.Field, ...]:
    return tuple(model._meta.concrete_fields)


def columns(model: type[models.Model], alias: str) -> str:
    """`alias."col1", alias."col2", …` for every concrete field, in `_meta` order."""
    return _columns(model, alias, connection.vendor)


@functools.cache
def _columns(model: type[models.Model], alias: str, vendor: str) -> str:
    # Cached: hot statements are built per request, and quoting every column name each time
    # cost a third of the API key look-up's Python.
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in _fields(model))


def width(model: type[models.Model]) -> int:
    """How many columns `columns(model, …)` selects."""
    return len(_fields(model))


@functools.cache
def _converters(model: type[models.Model], vendor: str) -> tuple[tuple[int, tuple, Any], ...]:
    found = []
    for index, field in enumerate(_fields(model)):
        expression = field.get_col(model._meta.db_table)
        chain = tuple(connection.ops.get_db_converters(expression)) + tuple(
            field.get_db_converters(connection)
        )
        if chain:
            found.append((index, chain, expression))
    return tuple(found)


def build(model: type[M], values: Sequence[Any]) -> M:
    """The instance the ORM would have built from these column values (`columns` order)."""
    values = list(values)
    for index, chain, expression in _converters(model, connection.vendor):
        for converter in chain:
            values[index] = converter(values[index], expression, connection)
    names = [field.attname for field in _fields(model)]
    return model.from_db(DEFAULT_DB_ALIAS, names, values)


def _cursor():
    """A cursor for fixed statements, kept open on this thread's database connection.

    Opening a cursor through Django costs more Python than sending a prepared statement
    (bench/sales.py: a fifth of a sale's Python time went to creating 20 cursors). The kept
    cursor is dropped when the connection is replaced (reconnect) or when query logging is
    switched on or off (`CaptureQueriesContext`, DEBUG), so statements are still logged
    and wrapped exactly as through `connection.cursor()`.
    """
    db = connections[DEFAULT_DB_ALIAS]
    kept = db.__dict__.get("_patron_cursor")
    logged = db.queries_logged
    if kept is not None and kept[0] is db.connection and kept[1] == logged:
        return kept[2]
    cursor = db.cursor()
    db._patron_cursor = (db.connection, logged, cursor)
    return cursor


def fetch_one(sql: str, params: Sequence[Any]) -> tuple | None:
    cursor = _cursor()
    cursor.execute(sql, params)
    return cursor.fetchone()


def fetch_all(sql: str, params: Sequence[Any]) -> list[tuple]:
    cursor = _cursor()
    cursor.execute(sql, params)
    return cursor.fetchall()


def execute(sql: str, params: Sequence[Any]) -> int:
    """Run a write; returns the number of rows it touched."""
    cursor = _cursor()
    cursor.execute(sql, params)
    return cursor.rowcount


def placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


def db_datetime(value):
    """A datetime as this backend stores it (SQLite: naive UTC text)."""
    return connection.ops.adapt_datetimefield_value(value)
