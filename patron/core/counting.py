"""How many rows a list has, without counting a million of them to draw one page.

Up to `EXACT_UP_TO` rows are counted exactly (the count reads at most that many index entries);
past it PostgreSQL's planner estimate is shown as "about N" (docs/scale.md). SQLite has no
estimate and is the small shops' database: it counts exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db import connections
from django.db.models import QuerySet

EXACT_UP_TO = 1000


@dataclass(frozen=True)
class RowCount:
    value: int
    exact: bool

    def __int__(self) -> int:
        return self.value


def planner_estimate(rows: QuerySet) -> int:
    """PostgreSQL's estimate of how many rows the query returns (EXPLAIN, nothing run)."""
    sql, params = rows.order_by().query.sql_with_params()
    with connections[rows.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def row_count(rows: QuerySet, exact_up_to: int = EXACT_UP_TO) -> RowCount:
    """The exact count when it is small (or on SQLite), else an estimate marked as such."""
    if connections[rows.db].vendor != "postgresql":
        return RowCount(rows.order_by().count(), True)
    counted = rows.order_by()[: exact_up_to + 1].count()
    if counted <= exact_up_to:
        return RowCount(counted, True)
    return RowCount(max(planner_estimate(rows), exact_up_to + 1), False)
