"""`{% load report_figures %}`: how the report pages write shares and ratios."""

from __future__ import annotations

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def percent(value: float | None) -> str:
    """0.8632 -> '86.3%'; None (nothing to divide) -> '—'."""
    if value is None:
        return "—"
    # Rounded here: number_format cuts the digits it does not show (66.67 -> "66.6").
    return f"{number_format(round(value * 100, 1), 1)}%"


@register.filter
def times(value: float | None) -> str:
    """5.0 -> '5.0×' (sales per yuan of discount); None -> '—'."""
    if value is None:
        return "—"
    return f"{number_format(round(value, 1), 1)}×"


@register.filter
def decimal2(value: float | None) -> str:
    """2.25 -> '2.25' (visits per member)."""
    return "—" if value is None else number_format(round(value, 2), 2)
