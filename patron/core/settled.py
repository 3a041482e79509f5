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
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from patron.core.dates import start_of_day

# Long enough for a day's reads; the key changes with the day anyway.
KEPT_SECONDS = 26 * 3600

# A change is looked for from this long before the sums: one made by a transaction still
# open while they ran (stamped before, committed after) is not missed.
IN_FLIGHT = dt.timedelta(minutes=10)

Rows = list[dict[str, Any]]


def settled_then_live(
    rows: QuerySet,
    moment_field: str,
    zone: dt.tzinfo,
    today: dt.date,
    sums: Callable[[QuerySet], Rows],
    changed_since: Callable[[dt.datetime], bool] | None = None,
) -> Rows:
    """`sums(rows)` as one list (a key may come twice: the caller adds rows with equal keys),
    the days before yesterday from the cache when they were summed before today.
    `changed_since(moment)` says whether a row summed may have changed since `moment` (for a
    table that is append-only but for a known change, e.g. a walk-in sale given to a member):
    the settled days are then summed again."""
    live_from = start_of_day(today - dt.timedelta(days=1), zone)
    key = _cache_key(rows, moment_field, zone, today)
    kept = cache.get(key)
    if kept is not None and changed_since is not None and changed_since(kept[2] - IN_FLIGHT):
        kept = None
    if kept is None:
        # Taken before the sums: a change made while they run is seen again next time.
        summed_at = timezone.now()
        watermark = rows.model.objects.aggregate(newest=Max("pk"))["newest"] or 0
        before = {f"{moment_field}__lt": live_from}
        kept = (watermark, sums(rows.filter(pk__lte=watermark, **before)), summed_at)
        cache.set(key, kept, KEPT_SECONDS)
    watermark, settled, _summed_at = kept
    recent = Q(**{f"{moment_field}__gte": live_from}) | Q(pk__gt=watermark)
    return settled + sums(rows.filter(recent))


def _cache_key(rows: QuerySet, moment_field: str, zone: dt.tzinfo, today: dt.date) -> str:
    sql, params = rows.order_by().query.sql_with_params()
    text = "|".join([rows.db, sql, repr(params), moment_field, str(zone), today.isoformat()])
    return "settled-days:" + hashlib.sha256(text.encode()).hexdigest()
