"""`{% load charts %}`: ECharts under the Content-Security-Policy, from a JSON spec.

    {% chart_scripts %}            once per page: ECharts (vendored) and core/charts.js
    {% chart spec "sales-90" %}    a chart: its box, a view picker, the spec as json_script

A spec is plain data (patron/home/figures.py `sales_chart` is one; docs/console-home.md says
what each key means), so another page adds a chart by building a spec. The tag lives in the
toolkit so that pages on any floor (the home page, settlement, member value, what if) draw
charts without depending on the home page above them.
"""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("core/_chart.html")
def chart(spec: dict[str, Any], chart_id: str) -> dict[str, Any]:
    return {"spec": spec, "chart_id": chart_id, "spec_id": f"{chart_id}-spec"}


@register.inclusion_tag("core/_chart_scripts.html")
def chart_scripts() -> dict[str, Any]:
    return {}
