"""From purchases to the (x, t_x, T, z-bar) the models read (API.md §8).

One transaction per customer per day, the day's amounts summed (several tickets on one day
are one visit); the first day is not a repeat; x (`frequency`) is the number of later days
with a purchase, t_x (`recency`) the time from the first to the last purchase day, T the time
from the first purchase day to `as_of`, z-bar (`monetary`) the mean of the repeat days'
amounts. Times are in days, or divided by 7 with unit "week". Purchases after `as_of` are
left out; those on `as_of` count.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray

UNITS = {"day": 1.0, "week": 7.0}


@dataclass(frozen=True)
class Summary:
    """Per customer, in the same order: who, and the model's inputs."""

    member: NDArray[np.int64]
    frequency: NDArray[np.float64]  # x
    recency: NDArray[np.float64]  # t_x, in `unit`
    T: NDArray[np.float64]  # noqa: N815 - the paper's name
    monetary: NDArray[np.float64]  # z-bar, mean repeat-day amount; 0 without repeats
    unit: str

    def __len__(self) -> int:
        return int(self.member.size)

    @property
    def repeaters(self) -> int:
        return int(np.count_nonzero(self.frequency > 0))


def purchases_frame(members: list[int], days: list[dt.date], amounts: list[int]) -> pl.DataFrame:
    """Three parallel columns as the frame `summarise` reads."""
    return pl.DataFrame(
        {"member": members, "day": days, "amount": amounts},
        schema={"member": pl.Int64, "day": pl.Date, "amount": pl.Int64},
    )


def summarise(purchases: pl.DataFrame, as_of: dt.date, unit: str = "day") -> Summary:
    """`purchases` has columns member (int), day (date, the merchant's local day), amount
    (int, fen): any number of rows per member and day."""
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}, not {unit!r}")
    scale = UNITS[unit]
    visits = (
        purchases.lazy()
        .filter(pl.col("day") <= as_of)
        .group_by("member", "day")
        .agg(pl.col("amount").sum())
        .sort("member", "day")
    )
    per_member = (
        visits.group_by("member")
        .agg(
            pl.len().alias("days"),
            pl.col("day").first().alias("first"),
            pl.col("day").last().alias("last"),
            pl.col("amount").sum().alias("total"),
            pl.col("amount").first().alias("first_amount"),
        )
        .sort("member")
        .with_columns(
            (pl.col("days") - 1).alias("frequency"),
            (pl.col("last") - pl.col("first")).dt.total_days().alias("recency"),
            (pl.lit(as_of) - pl.col("first")).dt.total_days().alias("T"),
        )
        .collect()
    )
    frequency = per_member["frequency"].to_numpy().astype(np.float64)
    repeat_total = (per_member["total"] - per_member["first_amount"]).to_numpy().astype(np.float64)
    monetary = np.divide(
        repeat_total, frequency, out=np.zeros_like(repeat_total), where=frequency > 0
    )
    return Summary(
        member=per_member["member"].to_numpy().astype(np.int64),
        frequency=frequency,
        recency=per_member["recency"].to_numpy().astype(np.float64) / scale,
        T=per_member["T"].to_numpy().astype(np.float64) / scale,
        monetary=monetary,
        unit=unit,
    )
