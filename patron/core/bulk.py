"""Fast multi-row inserts for bulk paths (import, demo) that skip model instantiation.

Django's `bulk_create` builds a model object per row and compiles every batch; at 100,000
members that alone costs more than a minute on this machine. Here rows are plain tuples, only
the fields that need it are converted for the database, and the cursor's `executemany` sends
them in batches (SQLite and PostgreSQL alike).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models

# Field classes whose Python value goes to the database unchanged.
PASS_THROUGH = (models.CharField, models.BooleanField, models.IntegerField, models.TextField)


def insert_many(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    batch_size: int = 5000,
) -> None:
    """INSERT `rows` (values in the order of `columns`, given as field names or attnames)."""
    # get_field() knows attnames too ("store_id"), so callers can pass raw foreign keys.
    fields = [model._meta.get_field(name) for name in columns]
    # Dates, JSON and our own fields (e.g. encrypted ones) need their database form.
    convert = [
        (index, field)
        for index, field in enumerate(fields)
        if not isinstance(field, models.ForeignKey)
        and (not isinstance(field, PASS_THROUGH) or type(field).__module__.startswith("patron"))
    ]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} "
        f"({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    # Many rows share values (the batch's timestamp, common birthdays): convert each once.
    memo: dict[tuple[int, Any], Any] = {}
    batch: list[list[Any]] = []
    with connection.cursor() as cursor:
        for row in rows:
            values = list(row)
            for index, field in convert:
                value = values[index]
                try:
                    key = (index, value)
                    converted = memo.get(key, memo)
                except TypeError:  # unhashable (a JSON dict): convert every time
                    values[index] = field.get_db_prep_save(value, connection)
                    continue
                if converted is memo:
                    converted = memo[key] = field.get_db_prep_save(value, connection)
                values[index] = converted
            batch.append(values)
            if len(batch) >= batch_size:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
