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
from dataclasses import dataclass

import numpy as np
import polars as pl
from django.db import transaction
from django.utils.translation import gettext as _

from patron.insight import scores_db
from patron.tenancy.models import Merchant

QUINTILES = 5
SCRATCH = "insight_rfm_scratch"
SCORES = ("r", "f", "m", "rfm")


def quintile_cuts(values: np.ndarray) -> list[int | None]:
    """The four values a score steps up after, from the ascending order of `values` (which
    hold no nulls): value v scores 1 + the number of cuts below it (None: always below).

    ceil(5 * rank / n) with rank = 1 + c, c the members with a lower value, exceeds k exactly
    when c >= floor(k * n / 5) = i, that is when v is above the i-th lowest value: four order
    statistics found by one partition, O(n), instead of ranking every member (a sort).
    """
    n = len(values)
    counts = [(k * n) // QUINTILES for k in range(1, QUINTILES)]
    positions = sorted({count - 1 for count in counts if count > 0})
    ordered = np.partition(values, positions) if positions else values
    return [int(ordered[count - 1]) if count > 0 else None for count in counts]


def quintile(column: str, values: np.ndarray) -> pl.Expr:
    """ceil(5 * rank / n) in integers, ties ranked together at their lowest rank (Polars
    rank "min"), computed from the cuts of `values` (the column's values)."""
    score = pl.lit(1, pl.Int8)
    for cut in quintile_cuts(values):
        above = pl.lit(True) if cut is None else pl.col(column) > cut
        score = score + above.cast(pl.Int8)
    return score


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
        quintile(column, members[column].to_numpy()).alias(score)
        for column, score in (("last_day", "r"), ("visits", "f"), ("spend", "m"))
    )
    # The cell as a number made text: ten times cheaper than joining three strings.
    cell = pl.col("r").cast(pl.Int16) * 100 + pl.col("f").cast(pl.Int16) * 10 + pl.col("m")
    return scored.with_columns(cell.cast(pl.Utf8).alias("rfm"))


def from_sales(lines: pl.DataFrame, today: int, window_start: int) -> pl.DataFrame:
    """RFM from sale lines (member_id, day, amount; day numbers): last day ever, lines and
    amount within [window_start, today], then `scores`."""
    if lines.height and lines["day"].max() > today:
        lines = lines.filter(pl.col("day") <= today)
    # The window as one column, the amount within it and null outside, counted (nulls are
    # not) and summed: the group-by then has the shape of a bare one (last day, count, sum)
    # and runs as fast (bench/rfm.py); a filter inside the aggregation made it 30 % slower,
    # a 0/1 column summed beside the amount 20 %.
    in_window = pl.when(pl.col("day") >= window_start).then(pl.col("amount"))
    members = (
        lines.lazy()
        .with_columns(in_window.alias("in_window"))
        .group_by("member_id")
        .agg(
            pl.col("day").max().alias("last_day"),
            pl.col("in_window").count().cast(pl.Int64).alias("visits"),
            pl.col("in_window").sum().alias("spend"),
        )
        .collect()
    )
    return scores(members)


# --- the refresh step ------------------------------------------------------------------------


def _buyers(merchant: Merchant) -> pl.DataFrame:
    last, params = scores_db.day_sql("last_purchase_at", merchant.timezone)
    rows = scores_db.fetch(
        f"SELECT member_id, {last}, visits_12m, spend_12m, rfm FROM {scores_db.INSIGHT}"
        " WHERE merchant_id = %s AND purchase_days > 0",
        [*params, merchant.pk],
    )
    schema = {
        "member_id": pl.Int64,
        "last_day": pl.Int64,
        "visits": pl.Int64,
        "spend": pl.Int64,
        "stored": pl.Utf8,  # the cell as the last refresh left it
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


@dataclass(frozen=True)
class RfmResult:
    scored: int  # members with a purchase
    moved: int  # of them, whose cell changed (written)
    cleared: int  # members without a purchase whose scores were removed


def refresh_rfm(merchant: Merchant, as_of: dt.datetime) -> RfmResult:
    """Every member's scores from their windows (run after the stats step)."""
    with transaction.atomic():
        scored = scores(_buyers(merchant))
        cleared = scores_db.execute(
            f"UPDATE {scores_db.INSIGHT} SET r = NULL, f = NULL, m = NULL, rfm = ''"
            " WHERE merchant_id = %s AND purchase_days = 0 AND (r IS NOT NULL OR rfm <> '')",
            [merchant.pk],
        )
        # Only the members whose cell moved are written (the cell says all three scores): on
        # a usual night most members keep theirs.
        moved = scored.filter(pl.col("rfm") != pl.col("stored"))
        if not moved.is_empty():
            rows = moved.select("member_id", *SCORES).iter_rows()
            scores_db.load_scratch(SCRATCH, SCORES, rows)
            scores_db.update_from_scratch(SCRATCH, SCORES)
            scores_db.drop_scratch(SCRATCH)
    return RfmResult(scored=scored.height, moved=moved.height, cleared=cleared)


def rfm_step(merchant: Merchant, as_of: dt.datetime) -> str:
    result = refresh_rfm(merchant, as_of)
    return _(
        "%(scored)s members scored (%(moved)s moved cell), %(cleared)s without a purchase cleared"
    ) % {
        "scored": f"{result.scored:,}",
        "moved": f"{result.moved:,}",
        "cleared": f"{result.cleared:,}",
    }
