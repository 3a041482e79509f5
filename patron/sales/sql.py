"""Checkout's fixed statements: what a sale reads and writes on every request.

Hand-written because the sale path is the one where building queries cost more than running
them (docs/checkout-benchmarks.md). They write only to the sales app's tables; what a sale
reads from other apps' tables comes in as those apps' fragments (tenancy: the merchant and the
store; ledger: its policy and the member's balances; promotions: the member's tier; members:
the member). Each statement is built once per shape and runs unchanged on SQLite (>= 3.35:
RETURNING) and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone

from patron.catalogue import sql as catalogue_sql
from patron.core import rawsql
from patron.engine import pricing
from patron.engine.points import ExpiryPolicy
from patron.ledger import sql as ledger_sql
from patron.ledger.models import DEFAULT_POINTS_POLICY, Asset
from patron.members import sql as members_sql
from patron.members.models import Member
from patron.program.models import ProgramRevision
from patron.promotions.selectors import tier_code_sql
from patron.sales.models import (
    CheckoutPolicy,
    MemberStats,
    Sale,
    SaleDiscount,
    SaleLine,
    SaleTender,
)
from patron.tenancy import selectors as tenancy
from patron.tenancy.models import Store

DEFAULT_BACKDATE_DAYS = CheckoutPolicy._meta.get_field("backdate_days").default


@dataclass(frozen=True)
class CheckoutSettings:
    """The merchant's settings a sale needs, read in one statement per sale.

    `revision` names the latest program revision: the promotions cache keys on it, so rules,
    tiers and categories (which only the program file changes) are not read again until a
    new revision is applied. The policies are read fresh every time (two tiny rows).
    """

    revision: tuple[Any, Any]
    points: dict[str, Any]
    payment_split: str
    pin_required_above: int | None
    backdate_days: int
    store: Store | None = None  # the active store of the code asked for, if any
    has_products: bool = True  # False: no line can be in the catalogue, none is looked up

    @property
    def expiry(self) -> ExpiryPolicy:
        expiry = self.points["expiry"]
        return ExpiryPolicy(expiry.get("policy", "end_of_next_year"), int(expiry.get("days", 0)))

    @property
    def pending_days(self) -> int:
        return int(self.points.get("pending_days", 0))


def _revision_join(merchant_id: rawsql.Column) -> rawsql.Join:
    """The merchant's latest program revision (id, applied_at) joined as `r`: the key of the
    cached rules. The program app owns the table; its model names it here."""
    revision, latest = rawsql.Table(ProgramRevision, "r"), rawsql.Table(ProgramRevision, "r2")
    return rawsql.Join(
        columns=rawsql.Statement("{r.id}, {r.applied_at}", r=revision),
        clause=rawsql.Statement(
            "LEFT JOIN {r} ON {r.id} ="
            " (SELECT MAX({r2.id}) FROM {r2} WHERE {r2.merchant_id} = {merchant_id})",
            r=revision,
            r2=latest,
            merchant_id=merchant_id,
        ),
        width=2,
    )


def _checkout_join(merchant_id: rawsql.Column) -> rawsql.Join:
    """The merchant's checkout policy joined as `cp` (NULL when it has none)."""
    fields = ("id", "pin_required_above", "backdate_days")
    policy = rawsql.Table(CheckoutPolicy, "cp")
    return rawsql.left_join(policy, fields, key="merchant_id", to=merchant_id)


# Parameters: the store's code, the merchant's id.
SETTINGS = tenancy.merchant_with(
    _revision_join,
    ledger_sql.policy_join,
    _checkout_join,
    catalogue_sql.has_products_join,
    tenancy.store_join,
)
_STORE_AT = 8  # the store's columns come after the revision's, the policies' and the catalogue's


def _datetime(value: Any) -> dt.datetime | None:
    """SQLite hands back text where PostgreSQL hands back a datetime."""
    if value is None or isinstance(value, dt.datetime):
        return value
    return connection.ops.convert_datetimefield_value(value, None, connection)


def checkout_settings(merchant_id: int, store_code: str | None = None) -> CheckoutSettings:
    """The settings, and the store named by `store_code` when it is an active one."""
    row = rawsql.fetch_one(SETTINGS, [store_code, merchant_id])
    row = row or (None,) * (_STORE_AT + rawsql.width(Store))
    revision_id, applied_at, points, split, policy_id, pin_above, backdate, products = row[
        :_STORE_AT
    ]
    store_row = row[_STORE_AT:]
    store = rawsql.build(Store, store_row) if store_row and store_row[0] is not None else None
    if isinstance(points, (str, bytes)):
        points = json.loads(points)
    return CheckoutSettings(
        revision=(revision_id, _datetime(applied_at)),
        points={**DEFAULT_POINTS_POLICY, **(points or {})},
        payment_split=split or "proportional",
        pin_required_above=pin_above if policy_id is not None else None,
        backdate_days=backdate if policy_id is not None else DEFAULT_BACKDATE_DAYS,
        store=store,
        has_products=bool(products),
    )


# --- the member at the till ------------------------------------------------------------------


@dataclass(frozen=True)
class TillFigures:
    """What pricing needs to know about the member, read with the member row."""

    tier_code: str | None
    points: int
    stored_value: int
    visits: int


def _till_figures(member: rawsql.Table) -> rawsql.Fragment:
    """The member's tier code, points, stored value and visits, as columns."""
    owner = {"merchant_id": member.merchant_id, "member_id": member.id}
    points = ledger_sql.member_balance((Asset.POINTS,), **owner)
    stored_value = ledger_sql.member_balance((Asset.PRINCIPAL, Asset.BONUS), **owner)
    statement = rawsql.Statement(
        "{tier}, {points}, {stored_value},"
        " (SELECT {s.visits} FROM {s} WHERE {s.member_id} = {member_id})",
        tier=tier_code_sql(tier_id=member.tier_id, merchant_id=member.merchant_id),
        points=points.sql,
        stored_value=stored_value.sql,
        s=rawsql.Table(MemberStats, "s"),
        member_id=member.id,
    )
    return rawsql.Fragment(statement, points.params + stored_value.params)


@functools.cache
def _member_statement(lookup: str) -> rawsql.Fragment:
    return members_sql.member_with(lookup, _till_figures)


def member_with_figures(merchant_id: int, lookup: str, value: Any) -> Member | None:
    """The member (found by `pk`, `mobile` or `card_no`) with `till_figures` attached."""
    statement, params = _member_statement(lookup)
    row = rawsql.fetch_one(statement, [*params, merchant_id, value])
    if row is None:
        return None
    split = rawsql.width(Member)
    member = rawsql.build(Member, row[:split])
    tier_code, points, stored_value, visits = row[split:]
    member.till_figures = TillFigures(tier_code, int(points), int(stored_value), int(visits or 0))
    return member


# --- writing the sale ------------------------------------------------------------------------

# The ledger rows a sale points to: set by `finish_sale` once they are posted.
POSTED = ("points_spend", "stored_value_payment", "points_earn", "points_hold")
SALE_COLUMNS = rawsql.insert_fields(Sale, leave_out=POSTED)
LINE_COLUMNS = rawsql.insert_fields(SaleLine)
DISCOUNT_COLUMNS = rawsql.insert_fields(SaleDiscount)
TENDER_COLUMNS = rawsql.insert_fields(SaleTender)

# What the engine prices per line (`pricing.PricedLine`): what a sale line records of it, and
# what the answer shows of a line with `refunded_quantity`.
PRICED_FIELDS = tuple(field.name for field in dataclasses.fields(pricing.PricedLine))
priced_values = operator.attrgetter(*PRICED_FIELDS)
# What the POS says about an item that the engine does not price, cut to the columns' lengths.
GIVEN_FIELDS = {
    name: SaleLine._meta.get_field(name).max_length
    for name in ("name", "brand", "model", "size", "colour")
}


def line_rows(
    lines: Sequence[pricing.PricedLine],
    given: Sequence[Any],
    *,
    merchant_id: int,
    store_id: int,
    occurred_at: Any,
) -> list[dict[str, Any]]:
    """The sale's lines as `LINE_COLUMNS` rows, but `sale_id` (filled in on insert). `given`
    are the lines as asked for (`LineInput`); the engine's gift lines come after them."""
    rows = []
    for index, line in enumerate(lines):
        row = dict(zip(PRICED_FIELDS, priced_values(line), strict=True))
        asked = given[index] if index < len(given) else None
        for name, limit in GIVEN_FIELDS.items():
            row[name] = getattr(asked, name)[:limit] if asked is not None else ""
        row.update(
            merchant_id=merchant_id,
            position=index,
            refunded_quantity=0,
            store_id=store_id,
            occurred_at=occurred_at,
        )
        rows.append(row)
    return rows


def record_sale(
    sale: dict[str, Any],
    lines: Sequence[dict[str, Any]],
    discounts: Sequence[dict[str, Any]],
    tenders: Sequence[dict[str, Any]] = (),
) -> int:
    """Insert a sale with its lines, discounts and tenders (their `sale_id` is filled in here);
    returns the sale's id. A used Idempotency-Key raises IntegrityError, as the plain INSERT
    would.

    On PostgreSQL this is one statement (data-modifying CTEs, the children taking the sale's id
    from the first). SQLite has no INSERT inside WITH, so it sends one INSERT per table.
    """
    if connection.vendor != "postgresql":
        insert = rawsql.insert(Sale, SALE_COLUMNS, returning=("id",))
        sale_id = rawsql.fetch_one(insert, _values(sale, SALE_COLUMNS))[0]
        for model, columns, rows in _children(lines, discounts, tenders):
            params = [v for row in rows for v in _values({**row, "sale_id": sale_id}, columns)]
            rawsql.execute(rawsql.insert(model, columns, len(rows)), params)
        return sale_id
    params = _values(sale, SALE_COLUMNS)
    for _model, columns, rows in _children(lines, discounts, tenders):
        own = _own(columns)
        params += [value for row in rows for value in _values(row, own)]
    statement = _record_statement(len(lines), len(discounts), len(tenders))
    return rawsql.fetch_one(statement, params)[0]


def _values(row: dict[str, Any], columns: Sequence[str]) -> list[Any]:
    return [row[column] for column in columns]


_CHILDREN = (
    (SaleLine, LINE_COLUMNS),
    (SaleDiscount, DISCOUNT_COLUMNS),
    (SaleTender, TENDER_COLUMNS),
)


def _children(*rows: Any) -> list[tuple[type, tuple[str, ...], Any]]:
    """The child tables that have rows (lines, discounts, tenders; or their counts), in a fixed
    order:
    one statement shape per count of each."""
    return [(*child, found) for child, found in zip(_CHILDREN, rows, strict=True) if found]


def _own(columns: Sequence[str]) -> tuple[str, ...]:
    """A child's columns but `sale_id`, which comes from the sale's CTE."""
    return tuple(column for column in columns if column != "sale_id")


@functools.cache
def _record_statement(lines: int, discounts: int, tenders: int = 0) -> rawsql.Statement:
    """PostgreSQL: the sale, then each child table's rows in a CTE of its own."""
    names: dict[str, Any] = {
        "sale": rawsql.Table(Sale),
        "insert": rawsql.insert(Sale, SALE_COLUMNS, returning=("id",)),
    }
    template = "WITH sale AS ({insert})"
    for index, (model, columns, count) in enumerate(_children(lines, discounts, tenders)):
        child, own = rawsql.Table(model), _own(columns)
        names.update({f"t{index}": child, f"sale{index}": child.sale_id})
        names[f"own{index}"] = rawsql.Columns(model, own)
        one = f"((SELECT {{sale.id}} FROM sale), {rawsql.placeholders(len(own))})"
        template += (
            f", c{index} AS (INSERT INTO {{t{index}}} ({{sale{index}}}, {{own{index}}})"
            f" VALUES {', '.join([one] * count)})"
        )
    return rawsql.Statement(template + " SELECT {sale.id} FROM sale", **names)


SALE_FOR_KEY = rawsql.Statement(
    "SELECT {s.id} FROM {s} WHERE {s.merchant_id} = %s AND {s.idempotency_key} = %s",
    s=rawsql.Table(Sale),
)


def sale_id_for_key(merchant_id: int, key: str) -> int | None:
    row = rawsql.fetch_one(SALE_FOR_KEY, [merchant_id, key])
    return row[0] if row else None


_STATS = rawsql.Table(MemberStats)
_VISIT_COLUMNS = (
    "member_id",
    "merchant_id",
    "total_spend",
    "visits",
    "refunds",
    "first_visit_at",
    "last_visit_at",
    "average_ticket",
    "points_earned",
    "saved",
    "updated_at",
)
# The member's figures with one more sale, creating the row on the first (`Visit.params`).
ADD_VISIT = rawsql.Statement(
    "INSERT INTO {s} ({columns}) VALUES (%s, %s, %s, 1, 0, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT ({s.member_id}) DO UPDATE SET"
    " {s.total_spend} = {s}.{s.total_spend} + excluded.{s.total_spend},"
    " {s.visits} = {s}.{s.visits} + 1,"
    " {s.average_ticket} = ({s}.{s.total_spend} + excluded.{s.total_spend})"
    " / ({s}.{s.visits} + 1),"
    " {s.first_visit_at} = CASE WHEN {s}.{s.first_visit_at} IS NULL"
    " OR {s}.{s.first_visit_at} > excluded.{s.first_visit_at}"
    " THEN excluded.{s.first_visit_at} ELSE {s}.{s.first_visit_at} END,"
    " {s.last_visit_at} = CASE WHEN {s}.{s.last_visit_at} IS NULL"
    " OR {s}.{s.last_visit_at} < excluded.{s.last_visit_at}"
    " THEN excluded.{s.last_visit_at} ELSE {s}.{s.last_visit_at} END,"
    " {s.points_earned} = {s}.{s.points_earned} + excluded.{s.points_earned},"
    " {s.saved} = {s}.{s.saved} + excluded.{s.saved},"
    " {s.updated_at} = excluded.{s.updated_at}",
    s=_STATS,
    columns=rawsql.Columns(MemberStats, _VISIT_COLUMNS),
)


def finish_sale(sale_id: int, postings: dict[str, Any], visit: Visit | None) -> None:
    """Point the sale at the ledger rows it caused (they needed the sale's id, so come after)
    and add it to its member's running figures. PostgreSQL: one statement (the UPDATE as a
    data-modifying CTE of the figures' upsert); SQLite: two."""
    update = None
    if postings:
        update = (_posted_statement(tuple(postings)), [*postings.values(), sale_id])
    upsert = None if visit is None else (ADD_VISIT, visit.params())
    if update and upsert and connection.vendor == "postgresql":
        rawsql.execute(_posted_and_visit(update[0]), update[1] + upsert[1])
        return
    for statement in (update, upsert):
        if statement is not None:
            rawsql.execute(*statement)


@functools.cache
def _posted_statement(columns: tuple[str, ...]) -> rawsql.Statement:
    sale = rawsql.Table(Sale)
    names = {f"c{index}": getattr(sale, column) for index, column in enumerate(columns)}
    sets = ", ".join(f"{{c{index}}} = %s" for index in range(len(columns)))
    return rawsql.Statement(
        f"UPDATE {{sale}} SET {sets} WHERE {{sale.id}} = %s", sale=sale, **names
    )


@functools.cache
def _posted_and_visit(posted: rawsql.Statement) -> rawsql.Statement:
    return rawsql.Statement("WITH posted AS ({posted}) {visit}", posted=posted, visit=ADD_VISIT)


@dataclass(frozen=True)
class Visit:
    """One sale added to a member's running figures, creating the row on the first sale.

    One upsert: two first sales of a member at two tills at once both count (PostgreSQL makes
    the second wait on the first's row, then update it) and no savepoint is needed.
    """

    member_id: int
    merchant_id: int
    paid: int
    at: dt.datetime
    points: int
    saved: int

    def params(self) -> list[Any]:
        when = rawsql.db_datetime(self.at)
        now = rawsql.db_datetime(timezone.now())
        return [
            self.member_id,
            self.merchant_id,
            self.paid,
            when,
            when,
            self.paid,
            self.points,
            self.saved,
            now,
        ]
