"""`{% load money %}`: the filters of patron.core.money for templates."""

from __future__ import annotations

from typing import Any

from django import template

from patron.core import money

register = template.Library()

register.filter("yuan", money.yuan)
register.filter("signed_yuan", money.signed_yuan)
register.filter("yuan_plain", money.yuan_plain)
register.filter("points", money.points)
register.filter("signed_points", money.signed_points)


@register.filter
def amount_for(value: Any, asset: str) -> str:
    """A signed ledger amount in its asset's unit: points as a count, stored value in yuan."""
    return money.signed_points(value) if asset == "points" else money.signed_yuan(value)
