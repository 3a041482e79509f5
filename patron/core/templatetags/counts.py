"""`{% load counts %}`: a list's row count as people read it: exact, or "about 990,000"."""

from __future__ import annotations

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from patron.core.counting import RowCount

register = template.Library()


def rounded(value: int) -> int:
    """Two significant figures: an estimate claims no more precision than it has."""
    digits = len(str(value))
    if digits <= 2:
        return value
    step = 10 ** (digits - 2)
    return round(value / step) * step


def approximate(value: int) -> str:
    """Chinese counts big numbers in 万 (ten thousands): 约 99万 reads at a glance where
    约 990000 has to be counted digit by digit."""
    value = rounded(value)
    if (get_language() or "").startswith("zh") and value >= 10_000:
        return f"{value / 10_000:g}万"
    return intcomma(value)


@register.filter
def count_label(count: RowCount | int) -> str:
    if isinstance(count, RowCount) and not count.exact:
        return _("about %(count)s") % {"count": approximate(count.value)}
    return intcomma(int(count))
