"""Checkout's fixed statements: what a sale reads and writes on every request.

A sale used to send 63 statements, most of them built by the ORM (about a millisecond of
Python each here; bench/sales.py). These are the ones every sale sends, written once, with
the same rows and columns the models describe; everything off the hot path stays on the ORM.
They run unchanged on SQLite (>= 3.35: RETURNING) and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone

from patron.core import rawsql
from patron.engine.points import ExpiryPolicy
from patron.ledger.models import DEFAULT_POINTS_POLICY, Asset
from patron.members.models import Member
from patron.sales.models import CheckoutPolicy
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

    @property
    def expiry(self) -> ExpiryPolicy:
        expiry = self.points["expiry"]
        return ExpiryPolicy(expiry.get("policy", "end_of_next_year"), int(expiry.get("days", 0)))

    @property
    def pending_days(self) -> int:
        return int(self.points.get("pending_days", 0))


SETTINGS = (
    "SELECT r.id, r.applied_at, lp.points, lp.payment_split,"
    f" cp.id, cp.pin_required_above, cp.backdate_days, {rawsql.columns(Store, 's')}"
    " FROM tenancy_merchant mm"
    " LEFT JOIN program_programrevision r ON r.id ="
    " (SELECT MAX(r2.id) FROM program_programrevision r2 WHERE r2.merchant_id = mm.id)"
    " LEFT JOIN ledger_ledgerpolicy lp ON lp.merchant_id = mm.id"
    " LEFT JOIN sales_checkoutpolicy cp ON cp.merchant_id = mm.id"
    " LEFT JOIN tenancy_store s ON s.merchant_id = mm.id AND s.code = %s AND s.is_active"
    " WHERE mm.id = %s"
)


def _datetime(value: Any) -> dt.datetime | None:
    """SQLite hands back text where PostgreSQL hands back a datetime."""
    if value is None or isinstance(value, dt.datetime):
        return value
    return connection.ops.convert_datetimefield_value(value, None, connection)


def checkout_settings(merchant_id: int, store_code: str | None = None) -> CheckoutSettings:
    """The settings, and the store named by `store_code` when it is an active one."""
    row = rawsql.fetch_one(SETTINGS, [store_code, merchant_id])
    row = row or (None,) * (7 + rawsql.width(Store))
    revision_id, applied_at, points, split, policy_id, pin_above, backdate = row[:7]
    store_row = row[7:]
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
    )


# --- the member at the till ------------------------------------------------------------------

MEMBER_LOOKUPS = {"pk": "id", "mobile": "mobile", "card_no": "card_no"}
MEMBER_FIGURES = (
    # The tier whose benefits apply: the member's own while active, else the rank-0 tier.
    "COALESCE((SELECT t.code FROM promotions_tier t WHERE t.id = m.tier_id AND t.is_active),"
    " (SELECT t.code FROM promotions_tier t WHERE t.merchant_id = m.merchant_id"
    " AND t.is_active AND t.rank = 0 ORDER BY t.code LIMIT 1)),"
    " (SELECT COALESCE(SUM(a.balance), 0) FROM ledger_account a"
    " WHERE a.merchant_id = m.merchant_id AND a.member_id = m.id"
    " AND a.owner_type = 'member' AND a.asset = %s),"
    " (SELECT COALESCE(SUM(a.balance), 0) FROM ledger_account a"
    " WHERE a.merchant_id = m.merchant_id AND a.member_id = m.id"
    " AND a.owner_type = 'member' AND a.asset IN (%s, %s)),"
    " (SELECT s.visits FROM sales_memberstats s WHERE s.member_id = m.id)"
)


@dataclass(frozen=True)
class TillFigures:
    """What pricing needs to know about the member, read with the member row."""

    tier_code: str | None
    points: int
    stored_value: int
    visits: int


def member_with_figures(merchant_id: int, lookup: str, value: Any) -> Member | None:
    """The member with `till_figures` attached. Id, mobile and card number are each unique
    per merchant, so there is no ordering to ask for (PostgreSQL would pick a worse index)."""
    row = rawsql.fetch_one(
        f"SELECT {rawsql.columns(Member, 'm')}, {MEMBER_FIGURES} FROM members_member m"
        f" WHERE m.merchant_id = %s AND m.{MEMBER_LOOKUPS[lookup]} = %s",
        [Asset.POINTS, Asset.PRINCIPAL, Asset.BONUS, merchant_id, value],
    )
    if row is None:
        return None
    split = rawsql.width(Member)
    member = rawsql.build(Member, row[:split])
    tier_code, points, stored_value, visits = row[split:]
    member.till_figures = TillFigures(tier_code, int(points), int(stored_value), int(visits or 0))
    return member


# --- writing the sale ------------------------------------------------------------------------

SALE_COLUMNS = (
    "merchant_id",
    "member_id",
    "store_id",
    "user_id",
    "api_key_id",
    "channel",
    "idempotency_key",
    "occurred_at",
    "created_at",
    "status",
    "subtotal",
    "member_discount",
    "discount",
    "points_redeemed",
    "points_value",
    "total",
    "stored_value_paid",
    "cash_due",
    "points_earned",
    "points_pending",
    "saved",
    "codes",
)
LINE_COLUMNS = (
    "sale_id",
    "merchant_id",
    "position",
    "sku",
    "name",
    "category",
    "brand",
    "model",
    "size",
    "colour",
    "quantity",
    "unit_price",
    "member_price",
    "discount",
    "points_offset",
    "total",
    "points_earned",
    "gift",
    "refunded_quantity",
    "store_id",
    "occurred_at",
)
DISCOUNT_COLUMNS = ("sale_id", "code", "kind", "name", "benefit", "amount", "coupon_id", "returned")


def _insert(table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], returning=""):
    one = f"({rawsql.placeholders(len(columns))})"
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([one] * len(rows))}"
    params = [value for row in rows for value in row]
    if returning:
        return rawsql.fetch_all(f"{sql} RETURNING {returning}", params)
    rawsql.execute(sql, params)
    return None


def record_sale(
    sale: dict[str, Any], lines: Sequence[dict[str, Any]], discounts: Sequence[dict[str, Any]]
) -> int:
    """Insert a sale with its lines and discounts (their `sale_id` is filled in here); returns
    the sale's id. A used Idempotency-Key raises IntegrityError, as the plain INSERT would.

    On PostgreSQL this is one statement (data-modifying CTEs, the children taking the sale's id
    from the first): two round trips fewer per sale. SQLite has no INSERT inside WITH, so it
    sends the three INSERTs.
    """
    if connection.vendor != "postgresql":
        sale_id = _insert("sales_sale", SALE_COLUMNS, [_values(sale, SALE_COLUMNS)], "id")[0][0]
        for table, columns, rows in _children(lines, discounts):
            _insert(table, columns, [_values({**r, "sale_id": sale_id}, columns) for r in rows])
        return sale_id
    statement = [
        f"WITH sale AS (INSERT INTO sales_sale ({', '.join(SALE_COLUMNS)})"
        f" VALUES ({rawsql.placeholders(len(SALE_COLUMNS))}) RETURNING id)"
    ]
    params = _values(sale, SALE_COLUMNS)
    for index, (table, columns, rows) in enumerate(_children(lines, discounts)):
        own = columns[1:]  # sale_id comes from the CTE
        one = f"((SELECT id FROM sale), {rawsql.placeholders(len(own))})"
        statement.append(
            f", c{index} AS (INSERT INTO {table} ({', '.join(columns)})"
            f" VALUES {', '.join([one] * len(rows))})"
        )
        params += [value for row in rows for value in _values(row, own)]
    statement.append(" SELECT id FROM sale")
    return rawsql.fetch_one("".join(statement), params)[0]


def _values(row: dict[str, Any], columns: Sequence[str]) -> list[Any]:
    return [row[column] for column in columns]


def _children(lines, discounts):
    """The child tables that have rows, in a fixed order (one statement shape per count)."""
    children = [("sales_saleline", LINE_COLUMNS, lines)]
    children.append(("sales_salediscount", DISCOUNT_COLUMNS, discounts))
    return [(table, columns, rows) for table, columns, rows in children if rows]


def sale_id_for_key(merchant_id: int, key: str) -> int | None:
    row = rawsql.fetch_one(
        "SELECT id FROM sales_sale WHERE merchant_id = %s AND idempotency_key = %s",
        [merchant_id, key],
    )
    return row[0] if row else None


ADD_VISIT = (
    "INSERT INTO sales_memberstats (member_id, merchant_id, total_spend, visits, refunds,"
    " first_visit_at, last_visit_at, average_ticket, points_earned, saved, updated_at)"
    " VALUES (%s, %s, %s, 1, 0, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (member_id) DO UPDATE SET"
    " total_spend = sales_memberstats.total_spend + excluded.total_spend,"
    " visits = sales_memberstats.visits + 1,"
    " average_ticket = (sales_memberstats.total_spend + excluded.total_spend)"
    " / (sales_memberstats.visits + 1),"
    " first_visit_at = CASE WHEN sales_memberstats.first_visit_at IS NULL"
    " OR sales_memberstats.first_visit_at > excluded.first_visit_at"
    " THEN excluded.first_visit_at ELSE sales_memberstats.first_visit_at END,"
    " last_visit_at = CASE WHEN sales_memberstats.last_visit_at IS NULL"
    " OR sales_memberstats.last_visit_at < excluded.last_visit_at"
    " THEN excluded.last_visit_at ELSE sales_memberstats.last_visit_at END,"
    " points_earned = sales_memberstats.points_earned + excluded.points_earned,"
    " saved = sales_memberstats.saved + excluded.saved,"
    " updated_at = excluded.updated_at"
)


def finish_sale(sale_id: int, postings: dict[str, Any], visit: Visit | None) -> None:
    """Point the sale at the ledger rows it caused (they needed the sale's id, so come after)
    and add it to its member's running figures. PostgreSQL: one statement (the UPDATE as a
    data-modifying CTE of the figures' upsert); SQLite: two."""
    update = None
    if postings:
        names = ", ".join(f"{column} = %s" for column in postings)
        update = (f"UPDATE sales_sale SET {names} WHERE id = %s", [*postings.values(), sale_id])
    upsert = None if visit is None else (ADD_VISIT, visit.params())
    if update and upsert and connection.vendor == "postgresql":
        rawsql.execute(f"WITH posted AS ({update[0]}) {upsert[0]}", update[1] + upsert[1])
        return
    for statement in (update, upsert):
        if statement is not None:
            rawsql.execute(*statement)


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
