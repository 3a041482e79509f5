"""Hand-written SQL for the few hot paths that skip the ORM's query compiling.

Every such statement goes through this module: tables and columns are named from the models
(`Table`, quoted for the backend), a statement is formatted once per backend and then sent
as is (`Statement`), and `build` turns the columns of a row back into the model instance the
ORM would have made (same database converters), so the rest of the code cannot tell the
difference. An app writes statements against its own tables only; what it needs from another
app's tables comes in as that app's fragment (a `Statement` or a `Join`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from django.core.exceptions import FieldDoesNotExist
from django.db import DEFAULT_DB_ALIAS, connection, connections, models

M = TypeVar("M", bound=models.Model)
Model = type[models.Model]


# --- names from the models -------------------------------------------------------------------


@functools.cache
def _fields(model: Model) -> tuple[models.Field, ...]:
    return tuple(model._meta.concrete_fields)


@functools.cache
def _field(model: Model, name: str) -> models.Field:
    """A concrete field by name or attname (`member` and `member_id` alike); `pk` too."""
    field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    if not getattr(field, "concrete", False) or not getattr(field, "column", None):
        raise FieldDoesNotExist(f"{model.__name__}.{name} has no column")
    return field


def table(model: Model) -> str:
    """The model's table, quoted for the backend."""
    return _table(model, connection.vendor)


@functools.cache
def _table(model: Model, vendor: str) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def column(model: Model, name: str) -> str:
    """The column of a field (by name or attname, or `pk`), quoted for the backend."""
    return _column(model, name, connection.vendor)


@functools.cache
def _column(model: Model, name: str, vendor: str) -> str:
    return connection.ops.quote_name(_field(model, name).column)


def columns(model: Model, alias: str = "") -> str:
    """`alias."col1", alias."col2", …` for every concrete field, in `_meta` order (what
    `build` takes); unqualified without an alias."""
    return _columns(model, alias, connection.vendor)


@functools.cache
def _columns(model: Model, alias: str, vendor: str) -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + _column(model, field.attname, vendor) for field in _fields(model))


def width(model: Model) -> int:
    """How many columns `columns(model, …)` selects."""
    return len(_fields(model))


@functools.cache
def insert_fields(model: Model, leave_out: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The attnames an INSERT of the model writes, in `_meta` order: every concrete field but
    an automatic primary key and `leave_out` (names or attnames)."""
    skipped = {_field(model, name).attname for name in leave_out}
    return tuple(
        field.attname
        for field in _fields(model)
        if not (field.primary_key and isinstance(field, models.AutoField))
        and field.attname not in skipped
    )


# --- statements ------------------------------------------------------------------------------


class Table:
    """A model's table in a `Statement`, under an alias or not.

    In a template, `{t}` is the table (`"sales_sale" s` under the alias `s`), `{t.member_id}`
    one of its columns (`s."member_id"`; unqualified without an alias; a field's name, its
    attname or `pk`) and `{t:columns}` every column in `_meta` order, as `build` reads them.
    Outside a template, `t.member_id` is a `Column` to hand to another app's fragment.
    """

    # Underscored: any other attribute is a column (SaleLine has a field called `model`).
    __slots__ = ("_model", "_alias")

    def __init__(self, model: Model, alias: str = "") -> None:
        self._model = model
        self._alias = alias

    def __getattr__(self, name: str) -> Column:
        if name.startswith("_"):
            raise AttributeError(name)
        _field(self._model, name)  # an unknown field fails here, where the statement is written
        return Column(self, name)

    def __format__(self, spec: str) -> str:
        if spec == "columns":
            return columns(self._model, self._alias)
        if spec:
            raise ValueError(f"unknown format {spec!r} for a table")
        name = table(self._model)
        return f"{name} {self._alias}" if self._alias else name

    def __repr__(self) -> str:
        return f"Table({self._model.__name__}, {self._alias!r})"


@dataclass(frozen=True)
class Column:
    """One column of a `Table`, qualified by the table's alias when it has one."""

    table: Table
    name: str

    def __format__(self, spec: str) -> str:
        quoted = column(self.table._model, self.name)
        alias = self.table._alias
        return f"{alias}.{quoted}" if alias else quoted


@dataclass(frozen=True)
class Columns:
    """Some columns of a model, unqualified and in the order given (an INSERT's list)."""

    model: Model
    names: tuple[str, ...]

    def __format__(self, spec: str) -> str:
        return ", ".join(column(self.model, name) for name in self.names)


class Statement:
    """SQL with `{name}` slots, filled once per backend, on first use, and kept.

    A slot holds a `Table` (its name, a column, every column: see there), a `Column`,
    `Columns`, another `Statement` (another app's fragment) or plain text. Literal braces
    would have to be doubled; `%s` parameters pass through untouched.
    """

    __slots__ = ("template", "names", "_texts")

    def __init__(self, template: str, **names: Any) -> None:
        self.template = template
        self.names = names
        self._texts: dict[str, str] = {}

    def text(self, vendor: str | None = None) -> str:
        vendor = vendor or connection.vendor
        found = self._texts.get(vendor)
        if found is None:
            names = {
                key: value.text(vendor) if isinstance(value, Statement) else value
                for key, value in self.names.items()
            }
            found = self._texts[vendor] = self.template.format(**names)
        return found

    def __repr__(self) -> str:
        return f"Statement({self.template!r})"


class _ForUpdate:
    def __format__(self, spec: str) -> str:
        return " FOR UPDATE" if connection.features.has_select_for_update else ""


# ` FOR UPDATE` where the backend locks rows (PostgreSQL); nothing on SQLite, which locks the
# whole database for a write transaction anyway.
FOR_UPDATE = _ForUpdate()


def joined(parts: Iterable[Statement | str], separator: str) -> Statement:
    """One statement of several, `separator` between them."""
    names = {f"part{index}": part for index, part in enumerate(parts)}
    return Statement(separator.join("{" + name + "}" for name in names), **names)


class Fragment(NamedTuple):
    """Another app's piece of a statement with the parameters its text holds, in order."""

    sql: Statement
    params: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Join:
    """Another app's table joined into a statement: the columns it adds (`width` of them,
    in order) and the join clause, which may hold parameters."""

    columns: Statement
    clause: Statement
    width: int


def left_join(table: Table, fields: Sequence[str], *, key: str, to: Column) -> Join:
    """`table` LEFT JOINed where its `key` equals `to` (a column of the joining statement),
    adding `fields`: NULLs when it has no such row."""
    return Join(
        columns=Statement(", ".join(f"{{t.{name}}}" for name in fields), t=table),
        clause=Statement(f"LEFT JOIN {{t}} ON {{t.{key}}} = {{to}}", t=table, to=to),
        width=len(fields),
    )


@functools.cache
def insert(
    model: Model, names: tuple[str, ...], count: int = 1, returning: tuple[str, ...] = ()
) -> Statement:
    """`INSERT INTO table (names) VALUES (%s, …), …`: `count` rows of values in the order of
    `names`, and `RETURNING` some columns when asked."""
    return Statement(
        "INSERT INTO {t} ({names}) VALUES {values}" + (" RETURNING {back}" if returning else ""),
        t=Table(model),
        names=Columns(model, names),
        values=rows(count, len(names)),
        back=Columns(model, returning),
    )


def placeholders(count: int) -> str:
    return _placeholders(count)


@functools.cache
def _placeholders(count: int) -> str:
    return ", ".join(["%s"] * count)


@functools.cache
def rows(count: int, width: int) -> str:
    """`(%s, …), (%s, …)`: the VALUES of a multi-row INSERT."""
    one = f"({_placeholders(width)})"
    return ", ".join([one] * count)


# --- rows into instances ---------------------------------------------------------------------


@functools.cache
def _converters(model: Model, vendor: str) -> tuple[tuple[int, tuple, Any], ...]:
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


def db_datetime(value):
    """A datetime as this backend stores it (SQLite: naive UTC text)."""
    return connection.ops.adapt_datetimefield_value(value)


# --- sending ---------------------------------------------------------------------------------


def _send(sql: str | Statement, params: Sequence[Any]):
    """Send one statement through the cursor kept on this thread's database connection.

    Opening a cursor through Django costs more Python than sending a prepared statement, so
    one is kept. It is dropped when the connection is replaced (reconnect) or when query
    logging is switched on or off (`CaptureQueriesContext`, DEBUG), so statements are still
    logged and wrapped exactly as through `connection.cursor()`.
    """
    db = connections[DEFAULT_DB_ALIAS]
    kept = db.__dict__.get("_patron_cursor")
    logged = db.queries_logged
    if kept is not None and kept[0] is db.connection and kept[1] == logged:
        cursor = kept[2]
    else:
        cursor = db.cursor()
        db._patron_cursor = (db.connection, logged, cursor)
    cursor.execute(sql if sql.__class__ is str else sql.text(db.vendor), params)
    return cursor


def fetch_one(sql: str | Statement, params: Sequence[Any]) -> tuple | None:
    return _send(sql, params).fetchone()


def fetch_all(sql: str | Statement, params: Sequence[Any]) -> list[tuple]:
    return _send(sql, params).fetchall()


def execute(sql: str | Statement, params: Sequence[Any]) -> int:
    """Run a write; returns the number of rows it touched."""
    return _send(sql, params).rowcount
