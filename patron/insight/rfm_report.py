"""What the console's RFM page shows (/insight/rfm/): the 5 x 5 R x F grid (members and mean
12-month spend per cell), the 125 RFM cells, members per lifecycle stage, and when figures last
changed; for the whole chain or one home store (a store-bound role: its own).

Everything is a GROUP BY over MemberInsight on its (merchant, ...) indexes; nothing is
computed here that the refresh did not store.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Avg, Count, Max, QuerySet
from django.utils.translation import gettext as _

from patron.insight.lifecycle import STAGES
from patron.insight.models import MemberInsight
from patron.tenancy.actor import Actor
from patron.tenancy.models import Store

SEGMENT_BUILDER = "/segments/new/"
SCORES = range(1, 6)


@dataclass(frozen=True)
class Cell:
    """One RFM cell ("543") with its members."""

    cell: str
    count: int
    share: float  # of the members scored
    mean_spend: int  # fen, 12 months
    mean_visits: float
    link: str


@dataclass
class RfmReport:
    store: Store | None
    members: int = 0  # with a row of insight
    scored: int = 0  # with an RFM cell (bought at least once)
    grid: list[dict[str, Any]] = field(default_factory=list)  # R x F: r, f, count, spend
    cells: list[Cell] = field(default_factory=list)
    stages: list[dict[str, Any]] = field(default_factory=list)  # code, label, count
    scored_since: dt.datetime | None = None  # the last time a member's figures changed


def store_for(actor: Actor, code: str | None) -> Store | None:
    """The store the page is about: a store-bound role's own; HQ roles the one asked for
    (None: every store); an unknown code is every store."""
    if actor.store_bound is not None:
        return actor.store_bound
    if not code:
        return None
    return Store.objects.filter(merchant=actor.merchant, code=code).first()


def insight_rows(actor: Actor, store: Store | None) -> QuerySet[MemberInsight]:
    rows = MemberInsight.objects.filter(merchant=actor.merchant)
    if store is not None:
        rows = rows.filter(member__store=store)
    return rows


def segment_link(conditions: list[dict[str, Any]], store: Store | None) -> str:
    """The segment builder with a filter (API.md §8 syntax) as its `filter` parameter."""
    if store is not None:
        conditions = [{"field": "store", "op": "eq", "value": store.code}, *conditions]
    query = urlencode({"filter": json.dumps({"all": conditions}, separators=(",", ":"))})
    return f"{SEGMENT_BUILDER}?{query}"


def _eq(name: str, value: Any) -> dict[str, Any]:
    return {"field": name, "op": "eq", "value": value}


def rfm_report(actor: Actor, store: Store | None) -> RfmReport:
    rows = insight_rows(actor, store)
    report = RfmReport(store=store)
    totals = rows.aggregate(members=Count("pk"), since=Max("computed_at"))
    report.members = totals["members"]
    report.scored_since = totals["since"]
    scored = rows.exclude(rfm="")
    grid = {
        (row["r"], row["f"]): row
        for row in scored.values("r", "f").annotate(count=Count("pk"), spend=Avg("spend_12m"))
    }
    report.grid = [
        {
            "r": r,
            "f": f,
            "count": grid.get((r, f), {}).get("count", 0),
            "spend": round(grid.get((r, f), {}).get("spend") or 0),
            "link": segment_link([_eq("r", r), _eq("f", f)], store),
        }
        for r in SCORES
        for f in SCORES
    ]
    report.scored = sum(cell["count"] for cell in report.grid)
    by_cell = (
        scored.values("rfm")
        .annotate(count=Count("pk"), spend=Avg("spend_12m"), visits=Avg("visits_12m"))
        .order_by("-rfm")
    )
    report.cells = [
        Cell(
            cell=row["rfm"],
            count=row["count"],
            share=row["count"] / report.scored if report.scored else 0.0,
            mean_spend=round(row["spend"] or 0),
            mean_visits=float(row["visits"] or 0),
            link=segment_link([_eq("rfm", row["rfm"])], store),
        )
        for row in by_cell
    ]
    counts = dict(rows.exclude(lifecycle="").values_list("lifecycle").annotate(count=Count("pk")))
    report.stages = [
        {
            "code": stage.value,
            "label": str(stage.label),
            "count": counts.get(stage.value, 0),
            "link": segment_link([_eq("lifecycle", stage.value)], store),
        }
        for stage in STAGES
    ]
    return report


def chart_spec(report: RfmReport) -> dict[str, Any]:
    """What insight/rfm.js draws: the heat map and the stage bars, with their words."""
    return {
        "heatmap": {
            "title": _("Members by recency (R) and frequency (F)"),
            "x_name": _("F: frequency"),
            "y_name": _("R: recency"),
            "colour_name": _("Mean spend (yuan)"),
            "tooltip": _("R %(r)s · F %(f)s: %(count)s members, mean spend ¥%(spend)s"),
            "cells": [
                {
                    "r": cell["r"],
                    "f": cell["f"],
                    "count": cell["count"],
                    "spend": cell["spend"] / 100,
                    "link": cell["link"],
                }
                for cell in report.grid
            ],
        },
        "stages": {
            "title": _("Members by lifecycle stage"),
            "labels": [stage["label"] for stage in report.stages],
            "counts": [stage["count"] for stage in report.stages],
            "links": [stage["link"] for stage in report.stages],
        },
    }
