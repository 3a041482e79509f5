"""Reads of the value page (F-34): the Pareto share of members' gross sales, the newest fit,
how P(alive) is spread, the members expected to bring most and the valuable ones likely lost.

Scoping: Pareto reads sales, so a store means sales made at that store; the member tables
and the P(alive) spread read members, so a store means members whose home store it is (as
the member list scopes a store manager).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
from django.db.models import (
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    QuerySet,
    Sum,
)
from django.db.models.functions import Cast, Floor, Least

from patron.core.dates import start_of_day
from patron.insight.models import MemberInsight, ValueFit
from patron.sales.models import Sale
from patron.tenancy.models import Merchant, Store

PARETO_SALES_SHARE = 0.8  # "the 20 % who bring 80 %": how many members make 80 % of sales
CURVE_POINTS = 20  # the Lorenz curve at every 5 % of members
ALIVE_BUCKETS = 10  # P(alive) in steps of 10 %
LIKELY_LOST_BELOW = 0.5  # P(alive) under this: more likely gone than not
TOP_SHOWN = 20


@dataclass(frozen=True)
class Pareto:
    members: int  # members who bought in the period
    gross: int  # fen, their sales before refunds
    top_members: int  # the fewest members whose sales reach 80 % of `gross`
    share: float | None  # top_members / members (None without sales)
    # (share of members, share of gross) from 0 to 1, members ordered by sales, biggest first
    curve: list[tuple[float, float]] = field(default_factory=list)


def pareto_share(
    merchant: Merchant, since: dt.date, until: dt.date, store: Store | None = None
) -> Pareto:
    """The share of members who together give 80 % of the members' gross sales (F-34), from
    `since` to `until` (both days included, the merchant's zone), at one store or all.

    Gross: the sales' totals as rung up, before refunds; non-member sales are not counted
    (no member to credit them to)."""
    zone = ZoneInfo(merchant.timezone)
    sales = Sale.objects.filter(
        merchant=merchant,
        member__isnull=False,
        occurred_at__gte=start_of_day(since, zone),
        occurred_at__lt=start_of_day(until + dt.timedelta(days=1), zone),
    )
    if store is not None:
        sales = sales.filter(store=store)
    per_member = sales.values("member_id").annotate(gross=Sum("total")).values_list("gross")
    gross = np.sort(np.fromiter((g for (g,) in per_member.iterator()), dtype=np.int64))[::-1]
    total = int(gross.sum())
    if gross.size == 0 or total <= 0:
        return Pareto(int(gross.size), total, 0, None, [])
    cumulative = np.cumsum(gross)
    top = int(np.searchsorted(cumulative, PARETO_SALES_SHARE * total, side="left")) + 1
    return Pareto(
        members=int(gross.size),
        gross=total,
        top_members=top,
        share=top / gross.size,
        curve=lorenz(cumulative, total),
    )


def lorenz(cumulative: np.ndarray, total: int) -> list[tuple[float, float]]:
    """The cumulative share of sales at each 1/CURVE_POINTS of the members (0 and 1 included),
    reading the sorted cumulative sums between members by straight lines."""
    n = cumulative.size
    members = np.linspace(0.0, 1.0, CURVE_POINTS + 1)
    share = np.interp(members * n, np.arange(n + 1), np.concatenate([[0], cumulative]) / total)
    return [(float(m), float(s)) for m, s in zip(members, share, strict=True)]


def newest_fit(merchant: Merchant) -> ValueFit | None:
    return ValueFit.objects.filter(merchant=merchant).order_by("-fitted_at", "-pk").first()


def scored(merchant: Merchant, store: Store | None) -> QuerySet[MemberInsight]:
    rows = MemberInsight.objects.filter(merchant=merchant, p_alive__isnull=False)
    return rows.filter(member__store=store) if store is not None else rows


def alive_spread(merchant: Merchant, store: Store | None) -> list[int]:
    """Members per 10 % band of P(alive), [0, 10 %) first and [90 %, 100 %] last, counted by
    the database."""
    band = Least(Cast(Floor(F("p_alive") * ALIVE_BUCKETS), IntegerField()), ALIVE_BUCKETS - 1)
    counts = [0] * ALIVE_BUCKETS
    rows = scored(merchant, store).annotate(band=band).values("band").annotate(n=Count("pk"))
    for row in rows.order_by():
        counts[int(row["band"])] += row["n"]
    return counts


def top_expected(merchant: Merchant, store: Store | None, limit: int = TOP_SHOWN):
    """The members expected to spend most in the next 90 days."""
    return (
        scored(merchant, store)
        .filter(expected_value_90d__isnull=False)
        .select_related("member", "member__stats")
        .order_by("-expected_value_90d", "member_id")[:limit]
    )


def likely_lost(merchant: Merchant, store: Store | None, limit: int = TOP_SHOWN):
    """Members more likely gone than not, the most valuable first: by what they would spend
    in the next 90 days were they still active, E[value] / P(alive) (a lost member buys
    nothing, so E[value] = P(alive) x E[value | active])."""
    at_stake = ExpressionWrapper(
        Cast(F("expected_value_90d"), FloatField()) / F("p_alive"), output_field=FloatField()
    )
    return (
        scored(merchant, store)
        .filter(p_alive__lt=LIKELY_LOST_BELOW, p_alive__gt=0, expected_value_90d__isnull=False)
        .annotate(at_stake=at_stake)
        .select_related("member", "member__stats")
        .order_by(F("at_stake").desc(), "p_alive", "member_id")[:limit]
    )
