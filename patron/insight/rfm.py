"""RFM (F-34): quintile scores 1-5 per merchant over the members with at least one purchase.

- R from the day of the last purchase (more recent: higher),
- F from `visits_12m`, M from `spend_12m` (the same 12-month window as the tier rules and the
  segments' fields: recent behaviour is what marketing acts on),
- each score = ceil(5 * rank / n), where rank is the member's rank from the lowest value up
  with ties given the lowest rank of their group (Polars rank "min") and n the members scored:
  equal values always share a score, the highest value always scores 5,
- the cell is the three scores as text ("555"); members who never bought: null scores, "".

`scores` works on one row per member; `from_sales` builds those rows from sale lines (the
bench times it against a bare group-by of the same lines). The refresh step reads the rows
from MemberInsight (filled by the stats step) and writes every member's scores in bulk.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import polars as pl
from django.db import transaction
from django.utils.translation import gettext as _

from patron.insight import scores_db
from patron.tenancy.models import Merchant

QUINTILES = 5
SCRATCH = "insight_rfm_scratch"
SCORES = ("r", "f", "m", "rfm")


def quintile(value: pl.Expr, n: pl.Expr | int) -> pl.Expr:
    """ceil(5 * rank / n) in integers, ties ranked together at their lowest rank."""
    rank = value.rank(method="min").cast(pl.Int64)
    return ((QUINTILES * rank + n - 1) // n).cast(pl.Int8)


def scores(members: pl.DataFrame) -> pl.DataFrame:
    """`members` (member_id, last_day, visits, spend; one row per member who bought) with
    r, f, m and the cell added."""
    n = members.height
    if n == 0:
        return members.with_columns(
            pl.lit(None, pl.Int8).alias("r"),
            pl.lit(None, pl.Int8).alias("f"),
            pl.lit(None, pl.Int8).alias("m"),
            pl.lit("", pl.Utf8).alias("rfm"),
        )
    scored = members.with_columns(
        quintile(pl.col("last_day"), n).alias("r"),
        quintile(pl.col("visits"), n).alias("f"),
        quintile(pl.col("spend"), n).alias("m"),
    )
    # The cell as a number made text: ten times cheaper than joining three strings.
    cell = pl.col("r").cast(pl.Int16) * 100 + pl.col("f").cast(pl.Int16) * 10 + pl.col("m")
    return scored.with_columns(cell.cast(pl.Utf8).alias("rfm"))


def from_sales(lines: pl.DataFrame, today: int, window_start: int) -> pl.DataFrame:
    """RFM from sale lines (member_id, day, amount; day numbers): last day ever, lines and
    amount within [window_start, today], then `scores`."""
    if lines.height and lines["day"].max() > today:
        lines = lines.filter(pl.col("day") <= today)
    # The window as a 0/1 column summed, not a filter inside the aggregation: the group-by
    # then runs as fast as a bare one (bench/rfm.py).
    members = (
        lines.lazy()
        .with_columns((pl.col("day") >= window_start).cast(pl.Int64).alias("in_window"))
        .group_by("member_id")
        .agg(
            pl.col("day").max().alias("last_day"),
            pl.col("in_window").sum().alias("visits"),
            (pl.col("amount") * pl.col("in_window")).sum().alias("spend"),
        )
        .collect()
    )
    return scores(members)


# --- the refresh step ------------------------------------------------------------------------


def _buyers(merchant: Merchant) -> pl.DataFrame:
    last, params = scores_db.day_sql("last_purchase_at", merchant.timezone)
    rows = scores_db.fetch(
        f"SELECT member_id, {last}, visits_12m, spend_12m FROM {scores_db.INSIGHT}"
        " WHERE merchant_id = %s AND purchase_days > 0",
        [*params, merchant.pk],
    )
    schema = {"member_id": pl.Int64, "last_day": pl.Int64, "visits": pl.Int64, "spend": pl.Int64}
    return pl.DataFrame(rows, schema=schema, orient="row")


def refresh_rfm(merchant: Merchant, as_of: dt.datetime) -> Counter:
    """Every member's scores from their windows (run after the stats step); returns the
    members per R score (0: no purchase)."""
    with transaction.atomic():
        scored = scores(_buyers(merchant))
        cleared = scores_db.execute(
            f"UPDATE {scores_db.INSIGHT} SET r = NULL, f = NULL, m = NULL, rfm = ''"
            " WHERE merchant_id = %s AND purchase_days = 0 AND (r IS NOT NULL OR rfm <> '')",
            [merchant.pk],
        )
        if not scored.is_empty():
            rows = scored.select("member_id", *SCORES).iter_rows()
            scores_db.load_scratch(SCRATCH, SCORES, rows)
            scores_db.update_from_scratch(SCRATCH, SCORES)
            scores_db.drop_scratch(SCRATCH)
    counts = Counter(dict(scored["r"].value_counts().iter_rows())) if scored.height else Counter()
    counts[0] = cleared
    return counts


def rfm_step(merchant: Merchant, as_of: dt.datetime) -> str:
    counts = refresh_rfm(merchant, as_of)
    scored = sum(count for score, count in counts.items() if score)
    return _("%(scored)s members scored, %(cleared)s without a purchase cleared") % {
        "scored": f"{scored:,}",
        "cleared": f"{counts[0]:,}",
    }
