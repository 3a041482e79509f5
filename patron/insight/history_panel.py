"""The member's preferences (F-33): favourite categories, sizes and colours, price band and
purchase cycle per category, from their `MemberFacet` rows and sale lines. Shown as the
"Preferences" card of the member page (the API's member body has no field for them).
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from patron.insight.models import Facet, MemberFacet
from patron.members.models import Member
from patron.sales.models import SaleLine
from patron.sales.profile import category_names

TOP = 3
CYCLES_SHOWN = 5
# Unit-price bands in fen (docs/history-import.md): a member's typical price is the median
# unit price of the lines they bought; the band is the one holding it (upper bound excluded).
PRICE_BANDS = (0, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000)


@dataclass(frozen=True)
class Favourite:
    value: str
    label: str
    share: float  # of the member's spend (categories) or quantity (sizes, colours)


@dataclass(frozen=True)
class Cycle:
    category: str
    label: str
    days: float
    due_at: dt.datetime | None


@dataclass(frozen=True)
class Preferences:
    categories: list[Favourite]
    sizes: list[Favourite]
    colours: list[Favourite]
    median_price: int | None  # fen
    band: tuple[int, int | None] | None  # fen, (low, high); high None: and above
    cycles: list[Cycle]

    @property
    def empty(self) -> bool:
        return not (self.categories or self.sizes or self.colours or self.band)


def price_band(median: int | None) -> tuple[int, int | None] | None:
    if median is None:
        return None
    low = max(bound for bound in PRICE_BANDS if bound <= median)
    higher = [bound for bound in PRICE_BANDS if bound > median]
    return low, (higher[0] if higher else None)


def median_unit_price(member: Member) -> int | None:
    prices = list(
        SaleLine.objects.filter(sale__member=member, gift=False).values_list(
            "unit_price", flat=True
        )
    )
    return round(statistics.median(prices)) if prices else None


def _favourites(rows: list[MemberFacet], weight: str, labels: dict[str, str]) -> list[Favourite]:
    total = sum(max(getattr(row, weight), 0) for row in rows)
    ranked = sorted(rows, key=lambda row: (-getattr(row, weight), row.value))[:TOP]
    return [
        Favourite(
            row.value,
            labels.get(row.value, row.value),
            max(getattr(row, weight), 0) / total if total else 0.0,
        )
        for row in ranked
        if getattr(row, weight) > 0
    ]


def preferences(member: Member) -> Preferences:
    by_kind: dict[str, list[MemberFacet]] = {kind: [] for kind in Facet.values}
    for row in MemberFacet.objects.filter(member=member).exclude(kind=Facet.SKU):
        by_kind[row.kind].append(row)
    categories = by_kind[Facet.CATEGORY]
    names = category_names(member.merchant_id, [row.value for row in categories])
    cycles = sorted(
        (row for row in categories if row.cycle_days is not None),
        key=lambda row: (row.due_at, row.value),
    )[:CYCLES_SHOWN]
    median = median_unit_price(member)
    return Preferences(
        categories=_favourites(categories, "spend", names),
        sizes=_favourites(by_kind[Facet.SIZE], "quantity", {}),
        colours=_favourites(by_kind[Facet.COLOUR], "quantity", {}),
        median_price=median,
        band=price_band(median),
        cycles=[
            Cycle(row.value, names.get(row.value, row.value), row.cycle_days, row.due_at)
            for row in cycles
        ],
    )


def preferences_panel(request: HttpRequest, member: Member) -> SafeString:
    found = preferences(member)
    zone = ZoneInfo(request.actor.merchant.timezone)
    now = timezone.now()
    cycles = [
        {
            "label": cycle.label,
            "days": round(cycle.days),
            "due": cycle.due_at.astimezone(zone) if cycle.due_at else None,
            "late": (now - cycle.due_at).days if cycle.due_at and cycle.due_at < now else 0,
        }
        for cycle in found.cycles
    ]
    band = found.band
    context = {
        "member": member,
        "prefs": found,
        "cycles": cycles,
        "band_low": band[0] // 100 if band else None,
        "band_high": band[1] // 100 if band and band[1] is not None else None,
    }
    return render_to_string("insight/_member_preferences.html", context, request=request)
