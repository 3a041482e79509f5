"""SQL that stats, lifecycle and RFM share: the local day of a moment as a whole number, and
writing many members' scores at once.

Day numbers (days since 2000-01-01 in the merchant's zone) make "days since the last
purchase" and "distinct purchase days" plain integer arithmetic on both databases. Bulk
writes go through a temporary table (PostgreSQL: filled by COPY; SQLite: executemany) and one
UPDATE ... FROM, so a million members are a few statements, not a million.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

from django.db import connection

from patron.insight.models import MemberInsight

EPOCH = dt.date(2000, 1, 1)
SQLITE_EPOCH_JULIAN = 2451544.5  # julianday('2000-01-01')
INSIGHT = MemberInsight._meta.db_table


def day_sql(column: str, zone: str) -> tuple[str, list]:
    """SQL for the local day number of `column` in `zone` (NULL stays NULL)."""
    sql, params = connection.ops.datetime_cast_date_sql(column, (), zone)
    if connection.vendor == "postgresql":
        return f"(({sql}) - DATE '2000-01-01')", list(params)
    return f"CAST(julianday({sql}) - {SQLITE_EPOCH_JULIAN} AS INTEGER)", list(params)


def day_number(moment: dt.datetime, zone: str | ZoneInfo) -> int:
    """The same in Python: local day of `moment` in `zone`, as days since 2000-01-01."""
    zone = ZoneInfo(zone) if isinstance(zone, str) else zone
    return (moment.astimezone(zone).date() - EPOCH).days


def adapted(params: Sequence) -> list:
    """Datetimes as the database stores them (SQLite compares UTC text: an aware datetime
    in another zone would compare wrongly as text)."""
    return [
        connection.ops.adapt_datetimefield_value(value) if isinstance(value, dt.datetime) else value
        for value in params
    ]


def fetch(sql: str, params: Sequence) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, adapted(params))
        return cursor.fetchall()


def execute(sql: str, params: Sequence = ()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, adapted(params))
        return cursor.rowcount


def load_scratch(name: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """A temporary table `name` with `member_id` and `columns` typed as MemberInsight's,
    holding `rows` ((member_id, *values)). Call inside a transaction; `drop_scratch` after."""
    wanted = ", ".join(["member_id", *columns])
    execute(f"DROP TABLE IF EXISTS {name}")
    execute(f"CREATE TEMPORARY TABLE {name} AS SELECT {wanted} FROM {INSIGHT} WHERE 1 = 0")
    if connection.vendor == "postgresql":
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY {name} ({wanted}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        execute(f"CREATE INDEX ON {name} (member_id)")
        execute(f"ANALYZE {name}")
        return
    marks = ", ".join(["%s"] * (len(columns) + 1))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {name} ({wanted}) VALUES ({marks})", [adapted(row) for row in rows]
        )


def drop_scratch(name: str) -> None:
    execute(f"DROP TABLE IF EXISTS {name}")


def update_from_scratch(name: str, columns: Sequence[str]) -> int:
    """MemberInsight rows set from the scratch table's columns, by member; rows updated."""
    sets = ", ".join(f"{column} = {name}.{column}" for column in columns)
    return execute(
        f"UPDATE {INSIGHT} SET {sets} FROM {name} WHERE {INSIGHT}.member_id = {name}.member_id"
    )
