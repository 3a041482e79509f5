"""`{% load months %}`: a "YYYY-MM" month as people read it (2026年11月, November 2026)."""

from __future__ import annotations

from django import template
from django.utils.formats import date_format

from patron.core import months

register = template.Library()


@register.filter
def month_label(value: object) -> str:
    """The month in the language's YEAR_MONTH_FORMAT; anything not a month as it is."""
    text = str(value or "")
    if not months.MONTH.fullmatch(text) or not 1 <= int(text[5:]) <= 12:
        return text
    return date_format(months.first_day(text), "YEAR_MONTH_FORMAT")
