"""`{% load promotions %}`: coupon codes shown in groups of four."""

from __future__ import annotations

from django import template

from patron.promotions.codes import display_code

register = template.Library()


@register.filter
def coupon_code(code: str) -> str:
    return display_code(code or "")
