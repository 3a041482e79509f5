"""The console's 报表 pages (/reports/): the dashboard (F-47) with its charts, rankings and
exports, and the store diagnosis (F-31). HQ and marketers see every store, a store manager
their own (F-48); the figures come from patron.insight.dashboard."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_GET

from patron.core.downloads import XLSX_TYPE
from patron.core.errors import NotFound, ValidationFailed
from patron.core.forms import ConsoleForm, DayField
from patron.insight import report_exports
from patron.insight.dashboard import (
    DEFAULT_DAYS,
    MAX_DAYS,
    Window,
    dashboard,
    merchant_zone,
    window_for,
)
from patron.insight.models import Lifecycle
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Role, Store
from patron.tenancy.permissions import require_role
from patron.tenancy.services import audit

REPORT_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER, Role.MARKETER)
PRESETS = {
    "7d": gettext_lazy("Last 7 days"),
    "30d": gettext_lazy("Last 30 days"),
    "90d": gettext_lazy("Last 90 days"),
    "month": gettext_lazy("This month"),
    "last_month": gettext_lazy("Last month"),
    "year": gettext_lazy("This year"),
}

may_see_reports = require_role(*REPORT_ROLES)


# --- the range form --------------------------------------------------------------------------


def preset_range(key: str, today: dt.date) -> tuple[dt.date, dt.date]:
    if key in ("7d", "30d", "90d"):
        return today - dt.timedelta(days=int(key[:-1]) - 1), today
    if key == "month":
        return today.replace(day=1), today
    if key == "last_month":
        last = today.replace(day=1) - dt.timedelta(days=1)
        return last.replace(day=1), last
    return today.replace(month=1, day=1), today


class RangeForm(ConsoleForm):
    """From, to (local days) and, for chain-wide roles, a store. Cleaning asks
    dashboard.window_for, so the console refuses exactly what the API refuses."""

    def __init__(self, data: Any, *, actor: Actor, today: dt.date) -> None:
        super().__init__(data)
        self.actor, self.today = actor, today
        self.fields["from"] = DayField(label=_("From"), required=False)
        self.fields["to"] = DayField(label=_("To"), required=False)
        if actor.store_bound is None:
            stores = Store.objects.filter(merchant=actor.merchant).order_by("-is_active", "code")
            self.fields["store"] = forms.ChoiceField(
                label=_("Store"),
                required=False,
                choices=[("", _("All stores"))] + [(s.code, s.name) for s in stores],
            )
        self.window: Window | None = None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        # A store-bound role has no store picker, but a store in the address must still be
        # refused (window_for: their own or a 404), not silently swapped for theirs.
        store = data.get("store") if "store" in self.fields else self.data.get("store")
        try:
            self.window = window_for(
                self.actor, data.get("from"), data.get("to"), store, today=self.today
            )
        except ValidationFailed as failed:
            for error in failed.errors:
                self.add_error(error.field if error.field in self.fields else None, message(error))
        except NotFound:
            self.add_error(None, _("You may see your own store only."))
        return data


def message(error) -> str:
    """window_for's refusals in the console's words. The form's own fields have already
    read the dates, so only these three remain: a backwards range (on `from`), one too long
    (on `to`) and an unknown store."""
    if error.field == "from":
        return _("The range starts after it ends.")
    if error.field == "to":
        return _("Ask for at most %(days)d days.") % {"days": MAX_DAYS}
    return _("Unknown store.")


def parse_day_or_none(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def today_for(actor: Actor) -> dt.date:
    return timezone.now().astimezone(merchant_zone(actor)).date()


def window_or_default(request: HttpRequest) -> tuple[RangeForm, Window]:
    """The range asked for in the query string; the last 30 days when it cannot be read
    (the form then shows why)."""
    actor = request.actor
    today = today_for(actor)
    data = request.GET.copy()
    preset = data.get("preset")
    if preset in PRESETS:
        first, last = preset_range(preset, today)
        data["from"], data["to"] = first.isoformat(), last.isoformat()
    # The inputs show the range shown: the default one when none was asked for.
    default = window_for(actor, today=today)
    if not data.get("to"):
        data["to"] = default.last.isoformat()
    if not data.get("from"):
        last = parse_day_or_none(data["to"]) or default.last
        data["from"] = (last - dt.timedelta(days=DEFAULT_DAYS - 1)).isoformat()
    form = RangeForm(data, actor=actor, today=today)
    if form.is_valid() and form.window is not None:
        return form, form.window
    return form, default


def range_query(window: Window) -> dict[str, str]:
    query = {"from": window.first.isoformat(), "to": window.last.isoformat()}
    if window.store:
        query["store"] = window.store.code
    return query


def preset_links(window: Window, today: dt.date) -> list[dict[str, Any]]:
    links = []
    for key, label in PRESETS.items():
        first, last = preset_range(key, today)
        query = {"from": first.isoformat(), "to": last.isoformat()}
        if window.store:
            query["store"] = window.store.code
        current = (first, last) == (window.first, window.last)
        links.append({"key": key, "label": label, "query": urlencode(query), "current": current})
    return links


# --- charts ----------------------------------------------------------------------------------


def period_label(day: dt.date, granularity: str) -> str:
    if granularity == "month":
        return formats.date_format(day, "YEAR_MONTH_FORMAT")
    # Translators: a date format (Django's `date` filter) for a chart's day axis, e.g. "Sep 8"
    label = formats.date_format(day, pgettext("chart day", "M j"))
    return label if granularity == "day" else _("week of %(day)s") % {"day": label}


def charts(figures: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Chart specs for patron/insight/static/reports/reports.js (docs/reports.md)."""
    series = figures["series"]
    labels = [period_label(day, series["granularity"]) for day in series["periods"]]
    stages = figures["members"]["lifecycle"]
    names = dict(Lifecycle.choices) | {"unscored": _("Not scored yet")}
    return {
        "sales": {
            "type": "line",
            "title": _("Sales and member sales"),
            "unit": "yuan",
            "labels": labels,
            "series": [
                {"name": _("Sales"), "values": [fen / 100 for fen in series["sales"]]},
                {
                    "name": _("Member sales"),
                    "values": [fen / 100 for fen in series["member_sales"]],
                },
            ],
        },
        "members": {
            "type": "bar",
            "title": _("New and active members"),
            "unit": "count",
            "labels": labels,
            "series": [
                {"name": _("New members"), "values": series["new_members"]},
                {"name": _("Active members"), "values": series["active_members"]},
            ],
        },
        "lifecycle": {
            "type": "pie",
            "title": _("Members by lifecycle stage (now)"),
            "unit": "count",
            "slices": [
                {"name": str(names[key]), "value": count} for key, count in stages.items() if count
            ],
        },
    }


def diagnosis_chart(diagnosis: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "scatter",
        "title": _("Visits per member and spend per visit, by store"),
        "x_name": _("Visits per buying member"),
        "y_name": _("Member spend per visit"),
        "x_median": diagnosis["median_activity"],
        "y_median": (diagnosis["median_loyalty"] or 0) / 100,
        "median_name": _("Chain median"),
        "points": [
            {"name": row["name"], "value": [row["activity"], row["loyalty"] / 100]}
            for row in diagnosis["stores"]
        ],
    }


# --- pages -----------------------------------------------------------------------------------


def page_context(request: HttpRequest) -> dict[str, Any]:
    form, window = window_or_default(request)
    figures = dashboard(request.actor, window)
    query = urlencode(range_query(window))
    return {
        "form": form,
        "window": window,
        "figures": figures,
        "query": query,
        "presets": preset_links(window, today_for(request.actor)),
        "chain_wide": request.actor.store_bound is None,
        "has_sales": figures["sales"]["count"] > 0 or figures["members"]["new"] > 0,
    }


@may_see_reports
@require_GET
def dashboard_page(request: HttpRequest) -> HttpResponse:
    context = page_context(request)
    context["charts"] = charts(context["figures"])
    return render(request, "reports/dashboard.html", context)


@may_see_reports
@require_GET
def diagnosis_page(request: HttpRequest) -> HttpResponse:
    context = page_context(request)
    context["chart"] = diagnosis_chart(context["figures"]["diagnosis"])
    return render(request, "reports/diagnosis.html", context)


@may_see_reports
@require_GET
def export(request: HttpRequest, table: str) -> HttpResponse:
    """One table of the dashboard as a workbook (`all`: every table, one sheet each). Audited
    like the member export, before the file is written."""
    if table not in report_exports.TABLES:
        raise Http404
    actor = request.actor
    _form, window = window_or_default(request)
    figures = dashboard(actor, window)
    book = report_exports.workbook(figures, table, actor.merchant.name)
    audit(
        actor,
        AuditEntry.Action.EXPORT,
        actor.merchant,
        {
            "report": [None, table],
            "from": [None, window.first.isoformat()],
            "to": [None, window.last.isoformat()],
            "store": [None, window.store.code if window.store else None],
            "rows": [None, book.rows],
        },
        label=_("Report export"),
    )
    response = HttpResponse(book.content, content_type=XLSX_TYPE)
    name = f"report-{table}-{window.first:%Y%m%d}-{window.last:%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
