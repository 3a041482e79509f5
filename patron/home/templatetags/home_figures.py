"""`{% load home_figures %}`: how the home page writes its figures."""

from __future__ import annotations

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def share(value: float | None) -> str:
    """0.625 -> '62.5%'; None (no sales to share) -> '—'."""
    if value is None:
        return "—"
    return f"{number_format(value * 100, 1)}%"
