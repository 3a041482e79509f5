"""Fast multi-row inserts for bulk paths (import, demo) that skip model instantiation, and
fast reads of many rows (`read_rows`).

Django's `bulk_create` builds a model object per row and compiles every batch; at 100,000
members that alone costs more than a minute on this machine. Here rows are plain tuples, only
the fields that need it are converted for the database, and the cursor's `executemany` sends
them in batches on SQLite; on PostgreSQL they stream through COPY, several times faster than
multi-row INSERTs (a million imported members with their audit entries, docs/members-import.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db import connection, models
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL
from psycopg import ClientCursor
from psycopg.copy import QueuedLibpqWriter

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
    table = quote(model._meta.db_table)
    names = ", ".join(quote(f.column) for f in fields)
    converted = converted_rows(rows, convert)
    if connection.vendor == "postgresql":
        copy_rows(f"COPY {table} ({names}) FROM STDIN", converted)
        return
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(fields))})"
    batch: list[list[Any]] = []
    with connection.cursor() as cursor:
        for values in converted:
            batch.append(values)
            if len(batch) >= batch_size:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


def converted_rows(
    rows: Iterable[Sequence[Any]], convert: list[tuple[int, models.Field]]
) -> Iterator[list[Any]]:
    """Each row with the values that need it in their database form."""
    # Many rows share values (the batch's timestamp, common birthdays): convert each once.
    memo: dict[tuple[int, Any], Any] = {}
    # JSON values cannot be keys: an empty one, or the very object of the row before (one
    # `changes` dict for every audit entry), is converted once too.
    previous: dict[int, tuple[Any, Any]] = {}
    for row in rows:
        values = list(row)
        for index, field in convert:
            value = values[index]
            try:
                key = (index, value)
                converted = memo.get(key, memo)
            except TypeError:  # unhashable (a JSON dict or list)
                values[index] = unhashable_value(field, index, value, memo, previous)
                continue
            if converted is memo:
                converted = memo[key] = field.get_db_prep_save(value, connection)
            values[index] = converted
        yield values


def unhashable_value(
    field: models.Field,
    index: int,
    value: Any,
    memo: dict[tuple[int, Any], Any],
    previous: dict[int, tuple[Any, Any]],
) -> Any:
    if not value:
        key = (index, type(value))
        if key not in memo:
            memo[key] = field.get_db_prep_save(value, connection)
        return memo[key]
    last = previous.get(index)
    if last is not None and last[0] is value:
        return last[1]
    converted = field.get_db_prep_save(value, connection)
    previous[index] = (value, converted)  # holding `value` keeps its id from being reused
    return converted


def copy_rows(statement: str, rows: Iterable[list[Any]]) -> None:
    """PostgreSQL's COPY FROM STDIN through psycopg 3, in the caller's transaction."""
    # psycopg's own cursor does the COPY: its errors are made Django's (an IntegrityError for
    # a unique index) as they would be through Django's cursor.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        # Queued: a thread hands the data to the server while the next rows are prepared,
        # so that PostgreSQL (index upkeep) and Python work at the same time on two cores.
        writer = QueuedLibpqWriter(cursor.cursor)
        with cursor.cursor.copy(statement, writer=writer) as copy:
            for values in rows:
                copy.write_row(values)


def refresh_statistics(*tables: type[models.Model]) -> None:
    """ANALYZE tables a bulk load is growing (PostgreSQL; SQLite has nothing to refresh).

    Autovacuum analyses a table only after its load has committed for a while; until then the
    planner believes the table is as small as it was and answers `mobile IN (...)` for a
    chunk with a scan of the merchant's rows instead of the unique index, which made an
    import slower with every chunk (docs/members-import.md).
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in tables:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def values_among(rows: QuerySet, field: str, values: Sequence[Any], chunk: int = 5000) -> set[Any]:
    """Which of `values` the rows hold in `field`: a bulk load's "which of these exist?".

    PostgreSQL gets the values as one array (`field IN (SELECT unnest(%s))`), planned as a
    join on the field's index; 10,000 separate parameters cost more to plan than to run, and
    on a table the planner thinks small turn into a scan comparing every row with each.
    SQLite takes them as bounded IN lists.
    """
    found: set[Any] = set()
    if connection.vendor == "postgresql":
        if values:
            kind = rows.model._meta.get_field(field).db_type(connection)
            listed = RawSQL(f"SELECT unnest(%s::{kind}[])", [list(values)])
            found.update(rows.filter(**{f"{field}__in": listed}).values_list(field, flat=True))
        return found
    for start in range(0, len(values), chunk):
        wanted = values[start : start + chunk]
        found.update(rows.filter(**{f"{field}__in": wanted}).values_list(field, flat=True))
    return found


def commit_without_waiting_for_disk() -> None:
    """In the current transaction, COMMIT returns before its WAL reaches the disk
    (PostgreSQL's `synchronous_commit = off`, for this transaction only; SQLite: nothing).

    For a bulk load that commits chunk by chunk and can be run again: a crash may lose the
    last chunks committed, never half of one and never consistency (the WAL still orders
    them), and a re-run imports them again. Each chunk spares a wait on the disk.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def read_rows(queryset: QuerySet, chunk_size: int = 20_000) -> Iterator[tuple[Any, ...]]:
    """The rows of a `values_list` queryset as tuples. On PostgreSQL through `COPY (...) TO
    STDOUT (FORMAT BINARY)`, decoded by psycopg's C code with the query's own column types:
    a million rows of seventeen columns in about 2.6 s instead of 9 s through the ORM's
    iterator (docs/whatif.md, "Speed"). Values are what psycopg gives (aware datetimes in UTC,
    JSON decoded), which for plain columns is what the ORM gives. Elsewhere the ORM's iterator.
    """
    if connection.vendor != "postgresql":
        yield from queryset.iterator(chunk_size=chunk_size)
        return
    sql, params = queryset.query.sql_with_params()
    connection.ensure_connection()
    raw = connection.connection
    with ClientCursor(raw) as client:
        statement = client.mogrify(f"COPY ({sql}) TO STDOUT (FORMAT BINARY)", params)
        client.execute(f"SELECT * FROM ({sql}) AS q LIMIT 0", params)
        types = [column.type_code for column in client.description or ()]
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        copy.set_types(types)
        yield from copy.rows()
