"""Per-day sums over an append-only table: the settled days read once, the recent ones live.

Rows of an append-only table (ledger entries) are never changed or deleted, so the sums of a
past day change only when a row dated that day is inserted later. `settled_then_live` sums the
days before yesterday once, up to the newest id at that moment (the watermark), and keeps them
in Django's cache; every read then sums live only what can still move: yesterday and today, and
any row inserted after the watermark whatever its date. Yesterday is read live so that a
transaction begun before midnight and committed after it is never missed. The cache key holds
the query (merchant, store, accounts, since), the zone and the day, so it rolls over each day.
docs/scale.md ("The console home at a million") has the figures and the one gap left.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import Max, Q, QuerySet

from patron.core.dates import start_of_day

# Long enough for a day's reads; the key changes with the day anyway.
KEPT_SECONDS = 26 * 3600

Rows = list[dict[str, Any]]


def settled_then_live(
    rows: QuerySet,
    moment_field: str,
    zone: dt.tzinfo,
    today: dt.date,
    sums: Callable[[QuerySet], Rows],
    version: object = None,
) -> Rows:
    """`sums(rows)` as one list (a key may come twice: the caller adds rows with equal keys),
    the days before yesterday from the cache when they were summed before today.
    `version` names the table's state for a table that is append-only but for a known change
    (sales: a walk-in's sale given to a member bumps a revision): a new one sums them again."""
    live_from = start_of_day(today - dt.timedelta(days=1), zone)
    try:
        key = _cache_key(rows, moment_field, zone, today, version)
    except EmptyResultSet:  # e.g. `account_id__in=[]`: Django answers without asking
        return sums(rows)
    kept = cache.get(key)
    if kept is None:
        watermark = rows.model.objects.aggregate(newest=Max("pk"))["newest"] or 0
        before = {f"{moment_field}__lt": live_from}
        kept = (watermark, sums(rows.filter(pk__lte=watermark, **before)))
        cache.set(key, kept, KEPT_SECONDS)
    watermark, settled = kept
    recent = Q(**{f"{moment_field}__gte": live_from}) | Q(pk__gt=watermark)
    with planned_for_these_values(rows.db):
        return settled + sums(rows.filter(recent))


@contextmanager
def planned_for_these_values(using: str) -> Iterator[None]:
    """PostgreSQL plans the statements inside for their values: statements are prepared after
    their third use (settings.py), and the generic plan of the recent rows' sums, not knowing
    that the days are two and the ids past the mark few, joined every ledger transaction
    (0.1 s at a million instead of 5 ms)."""
    if connections[using].vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        yield


def _cache_key(
    rows: QuerySet, moment_field: str, zone: dt.tzinfo, today: dt.date, version: object
) -> str:
    sql, params = rows.order_by().query.sql_with_params()
    parts = [rows.db, sql, repr(params), moment_field, str(zone), today.isoformat(), repr(version)]
    text = "|".join(parts)
    return "settled-days:" + hashlib.sha256(text.encode()).hexdigest()
