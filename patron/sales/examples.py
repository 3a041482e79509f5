"""Example baskets for the promotion editor's preview: lines like those sold lately
(registered with `patron.promotions.preview.register_example_source` in SalesConfig.ready)."""

from __future__ import annotations

from patron.promotions.preview import EXAMPLE_LINES, ExampleLine
from patron.sales.models import SaleLine
from patron.tenancy.models import Merchant

EXAMPLE_FROM_LAST_LINES = 300


def recent_example_lines(merchant: Merchant) -> list[ExampleLine]:
    """A few lines like those sold lately, one per category."""
    recent = (
        SaleLine.objects.filter(merchant=merchant, gift=False, unit_price__gt=0)
        .order_by("-id")
        .values_list("sku", "category", "unit_price", "name")[:EXAMPLE_FROM_LAST_LINES]
    )
    picked: dict[str, ExampleLine] = {}
    categories: set[str] = set()
    for sku, category, unit_price, name in recent:
        if sku in picked or category in categories:
            continue
        picked[sku] = ExampleLine(sku, category, 1, unit_price, name)
        categories.add(category)
        if len(picked) >= EXAMPLE_LINES:
            break
    return list(picked.values())
