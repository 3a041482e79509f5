"""The console home's figures: today, this week and this month per store and for the chain,
and the last 90 days per day for the chart.

Every figure comes from the selectors of the app that owns it, summed by the database per store
and local day (the merchant's time zone); this module only adds the days up. One read per app
covers the 90 days, which always include this week and this month.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from patron.core.dates import start_of_day
from patron.ledger.selectors import daily_movements
from patron.members.selectors import daily_new_members
from patron.sales.selectors import daily_sales
from patron.tenancy.actor import Actor
from patron.tenancy.models import Store

CHART_DAYS = 90
PERIODS = {
    "today": gettext_lazy("Today"),
    "week": gettext_lazy("This week"),
    "month": gettext_lazy("This month"),
}
FIELDS = ("sales", "member_sales", "new_members", "topups", "points_issued", "points_redeemed")


@dataclass
class Figures:
    """One store's (or the chain's) figures over some days; money in fen."""

    sales: int = 0
    member_sales: int = 0
    new_members: int = 0
    topups: int = 0
    points_issued: int = 0
    points_redeemed: int = 0

    def add(self, row: dict[str, Any]) -> None:
        for name in FIELDS:
            setattr(self, name, getattr(self, name) + row.get(name, 0))

    @property
    def member_share(self) -> float | None:
        """Members' sales over all sales, 0…1; None when there were no sales to share."""
        if self.sales <= 0:
            return None
        return self.member_sales / self.sales

    @property
    def is_empty(self) -> bool:
        return not any(getattr(self, name) for name in FIELDS)


@dataclass
class StoreRow:
    store: Store | None  # None: what happened at HQ (no store)
    figures: Figures = field(default_factory=Figures)


@dataclass
class Period:
    key: str
    label: str
    first_day: dt.date
    stores: list[StoreRow]
    total: Figures


@dataclass
class HomeFigures:
    today: dt.date
    periods: dict[str, Period]
    chart: dict[str, Any]


def period_starts(today: dt.date) -> dict[str, dt.date]:
    """The first day of each period: weeks start on Monday."""
    return {
        "today": today,
        "week": today - dt.timedelta(days=today.weekday()),
        "month": today.replace(day=1),
    }


def daily_rows(actor: Actor, since: dt.datetime, zone: dt.tzinfo) -> dict[tuple, dict]:
    """Every figure per (store id, local day), merged from the three apps' reads."""
    merged: dict[tuple, dict] = defaultdict(dict)
    for rows in (
        daily_sales(actor, since, zone),
        daily_movements(actor, since, zone),
        daily_new_members(actor, since, zone),
    ):
        for row in rows:
            into = merged[(row["store"], row["day"])]
            for name in FIELDS:
                if name in row:
                    into[name] = into.get(name, 0) + row[name]
    return merged


def shown_stores(actor: Actor, with_figures: set[int | None]) -> list[Store | None]:
    """A store-bound role's own store; else the active stores and any other with figures, and
    None (HQ) when something happened outside every store."""
    if actor.store_bound is not None:
        return [actor.store_bound]
    stores = Store.objects.filter(
        Q(is_active=True) | Q(pk__in=[pk for pk in with_figures if pk is not None]),
        merchant=actor.merchant,
    ).order_by("code")
    shown: list[Store | None] = list(stores)
    if None in with_figures:
        shown.append(None)
    return shown


def home_figures(actor: Actor, now: dt.datetime | None = None) -> HomeFigures:
    zone = zoneinfo.ZoneInfo(actor.merchant.timezone)
    today = (now or timezone.now()).astimezone(zone).date()
    first_day = today - dt.timedelta(days=CHART_DAYS - 1)
    rows = daily_rows(actor, start_of_day(first_day, zone), zone)
    stores = shown_stores(actor, {store for store, _day in rows})
    periods = {}
    for key, start in period_starts(today).items():
        per_store = {store.pk if store else None: StoreRow(store) for store in stores}
        total = Figures()
        for (store_id, day), row in rows.items():
            if start <= day <= today and store_id in per_store:
                per_store[store_id].figures.add(row)
                total.add(row)
        periods[key] = Period(key, str(PERIODS[key]), start, list(per_store.values()), total)
    return HomeFigures(today, periods, sales_chart(rows, stores, first_day, today))


def sales_chart(
    rows: dict[tuple, dict], stores: list[Store | None], first_day: dt.date, today: dt.date
) -> dict[str, Any]:
    """The chart spec (see core/static/core/charts.js): sales and member sales per day, one
    view for all the stores shown and one per store."""
    days = [first_day + dt.timedelta(days=n) for n in range((today - first_day).days + 1)]
    index = {day: n for n, day in enumerate(days)}

    def series(store_ids: set[int | None]) -> dict[str, list[float]]:
        values = {"sales": [0] * len(days), "member_sales": [0] * len(days)}
        for (store_id, day), row in rows.items():
            if store_id in store_ids and day in index:
                for name in values:
                    values[name][index[day]] += row.get(name, 0)
        return {name: [fen / 100 for fen in fens] for name, fens in values.items()}

    real = [store for store in stores if store is not None]
    views = []
    if len(stores) > 1:
        views.append(
            {
                "key": "",
                "label": _("All stores"),
                "values": series({s.pk if s else None for s in stores}),
            }
        )
    views += [{"key": s.code, "label": s.name, "values": series({s.pk})} for s in real]
    return {
        "type": "line",
        "title": _("Sales over the last %(days)d days") % {"days": CHART_DAYS},
        "unit": "yuan",
        # Translators: a date format (Django's `date` filter) for a chart's day axis, e.g. "Sep 8"
        "labels": [formats.date_format(day, pgettext("chart day", "M j")) for day in days],
        "series": [
            {"key": "sales", "name": _("Sales")},
            {"key": "member_sales", "name": _("Member sales")},
        ],
        "views": views,
        "view_label": _("Store"),
    }
