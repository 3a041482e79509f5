"""The value page at /insight/value/ (F-34) and the member page's value card.

The page: the share of members who bring 80 % of the members' gross sales with its Lorenz
curve, the fitted BG/NBD and Gamma-Gamma parameters, how P(alive) is spread, the members
expected to spend most in the next 90 days and the valuable members likely lost; every
table exports to xlsx (audited when it names members, mobiles masked). HQ and marketers see
every store and may pick one; a store manager sees their own store only.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from patron.core.downloads import XLSX_TYPE
from patron.core.forms import ConsoleForm, DayField
from patron.core.money import yuan, yuan_number
from patron.insight import value_selectors as selectors
from patron.members.models import Member
from patron.members.validation import mask_mobile
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Role, Store
from patron.tenancy.permissions import require_role
from patron.tenancy.services import audit

VALUE_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER, Role.MARKETER)
DEFAULT_DAYS = 365
TABLES = ("pareto", "alive", "top", "lost")

may_see_value = require_role(*VALUE_ROLES)


# --- words -----------------------------------------------------------------------------------


def percent(share: float | None) -> str:
    """43%; a share above 0 that would round to 0% (a member almost surely lost) is <1%."""
    if share is None:
        return "—"
    if 0 < share < 0.005:
        return "<1%"
    return f"{share * 100:.0f}%"


def alive_words(p_alive: float) -> str:
    """仍活跃的概率 83%."""
    return _("Probability still active: %(percent)s") % {"percent": percent(p_alive)}


def visits_words(visits: float) -> str:
    return _("%(visits)s visits expected in the next 90 days") % {"visits": f"{visits:.1f}"}


def band_label(band: int) -> str:
    low = band * 100 // selectors.ALIVE_BUCKETS
    high = (band + 1) * 100 // selectors.ALIVE_BUCKETS
    return f"{low}–{high}%"


# --- the filter ------------------------------------------------------------------------------


class ValueFilterForm(ConsoleForm):
    store = forms.ChoiceField(label=gettext_lazy("Store"), required=False)
    since = DayField(label=gettext_lazy("Sales from"), required=False)
    until = DayField(label=gettext_lazy("Sales to"), required=False)

    def __init__(self, actor: Actor, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        stores = Store.objects.filter(merchant=actor.merchant).order_by("code")
        if actor.store_bound is not None:
            stores = stores.filter(pk=actor.store_bound.pk)
            choices = []
        else:
            choices = [("", _("All stores"))]
        self.fields["store"].choices = choices + [(s.code, s.name) for s in stores]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", _("The end comes before the start."))
        return cleaned


@dataclass(frozen=True)
class Scope:
    store: Store | None
    since: dt.date
    until: dt.date


def scope_for(request: HttpRequest) -> tuple[ValueFilterForm, Scope]:
    """The page's store and sales period: a store-bound role is held to its store whatever
    the query says; a bad or backwards period falls back to the last 365 days."""
    actor: Actor = request.actor
    form = ValueFilterForm(actor, request.GET or None)
    valid = form.is_valid() if form.is_bound else False
    today = timezone.localdate()
    since = today - dt.timedelta(days=DEFAULT_DAYS - 1)
    until = today
    store = actor.store_bound
    if valid:
        since = form.cleaned_data.get("since") or since
        until = form.cleaned_data.get("until") or until
        code = form.cleaned_data.get("store")
        if store is None and code:
            store = Store.objects.filter(merchant=actor.merchant, code=code).first()
    return form, Scope(store, since, until)


# --- the page --------------------------------------------------------------------------------


def lorenz_chart(pareto: selectors.Pareto) -> dict[str, Any]:
    """The spec core/charts.js draws: cumulative share of sales against share of members."""
    labels = [f"{m * 100:.0f}%" for m, _s in pareto.curve]
    return {
        "type": "line",
        "title": _("Share of members' sales (%) by share of members, biggest buyers first"),
        "unit": "count",
        "labels": labels,
        "series": [
            {"key": "members", "name": _("Members' sales")},
            {"key": "equal", "name": _("If everyone spent the same")},
        ],
        "views": [
            {
                "key": "all",
                "label": "",
                "values": {
                    "members": [round(s * 100, 1) for _m, s in pareto.curve],
                    "equal": [round(m * 100, 1) for m, _s in pareto.curve],
                },
            }
        ],
    }


def alive_chart(spread: list[int]) -> dict[str, Any]:
    return {
        "type": "bar",
        "title": _("Members by probability of still being active"),
        "unit": "count",
        "labels": [band_label(i) for i in range(len(spread))],
        "series": [{"key": "members", "name": _("Members")}],
        "views": [{"key": "all", "label": "", "values": {"members": spread}}],
    }


@dataclass(frozen=True)
class MemberRow:
    member: Member
    mobile: str
    p_alive: float
    alive: str  # P(alive) as a percentage
    visits: float | None
    value: int | None
    at_stake: int | None  # fen: the 90-day value were the member still active
    spend: int
    url: str


def value_if_active(insight) -> int | None:
    if insight.expected_value_90d is None or not insight.p_alive:
        return None
    return round(insight.expected_value_90d / insight.p_alive)


def member_rows(insights) -> list[MemberRow]:
    """Rows with masked mobiles, on screen and in the workbook: these are lists of members
    (F-45); the member page, one link away, shows the full number to those who may see it."""
    rows = []
    for insight in insights:
        member = insight.member
        try:
            spend = member.stats.total_spend
        except ObjectDoesNotExist:
            spend = 0
        rows.append(
            MemberRow(
                member=member,
                mobile=mask_mobile(member.mobile),
                p_alive=insight.p_alive,
                alive=percent(insight.p_alive),
                visits=insight.expected_visits_90d,
                value=insight.expected_value_90d,
                at_stake=value_if_active(insight),
                spend=spend,
                url=reverse("members:detail", args=[member.pk]),
            )
        )
    return rows


def fit_figures(fit) -> dict[str, Any] | None:
    if fit is None:
        return None
    return {
        "fit": fit,
        "as_of": date_format(fit.as_of, "Y-m-d"),
        "fitted_at": date_format(timezone.localtime(fit.fitted_at), "Y-m-d H:i"),
        "unit": _("weeks") if fit.unit == "week" else _("days"),
        "bgnbd": fit.bgnbd,
        "gamma_gamma": fit.gamma_gamma,
        "mean_value": (
            round(fit.gamma_gamma["p"] * fit.gamma_gamma["v"] / (fit.gamma_gamma["q"] - 1))
            if fit.gamma_gamma and fit.gamma_gamma["q"] > 1
            else None
        ),
    }


@may_see_value
@require_GET
def value_page(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor
    form, scope = scope_for(request)
    pareto = selectors.pareto_share(actor.merchant, scope.since, scope.until, scope.store)
    spread = selectors.alive_spread(actor.merchant, scope.store)
    context = {
        "form": form,
        "scope": scope,
        "pareto": pareto,
        "pareto_share": percent(pareto.share),
        "lorenz": lorenz_chart(pareto) if pareto.curve else None,
        "spread": [(band_label(i), n) for i, n in enumerate(spread)],
        "alive_chart": alive_chart(spread) if any(spread) else None,
        "scored": sum(spread),
        "fit": fit_figures(selectors.newest_fit(actor.merchant)),
        "top": member_rows(selectors.top_expected(actor.merchant, scope.store)),
        "lost": member_rows(selectors.likely_lost(actor.merchant, scope.store)),
        "lost_below": percent(selectors.LIKELY_LOST_BELOW),
        "export_query": request.GET.urlencode(),
    }
    return render(request, "insight/value/page.html", context)


# --- exports ---------------------------------------------------------------------------------


def workbook(title: str, headers: list[str], rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for index in range(len(headers)):
        sheet.column_dimensions[chr(ord("A") + index)].width = 18
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def member_sheet(rows: list[MemberRow]) -> tuple[list[str], list[list[Any]]]:
    headers = [
        _("Card number"),
        _("Name"),
        _("Mobile"),
        _("Probability still active (%)"),
        _("Expected visits in 90 days"),
        _("Expected spend in 90 days (yuan)"),
        _("Spend in 90 days if still active (yuan)"),
        _("Spend so far (yuan)"),
    ]
    return headers, [
        [
            row.member.card_no,
            row.member.name,
            row.mobile,
            round(row.p_alive * 100, 1),
            None if row.visits is None else round(row.visits, 2),
            None if row.value is None else yuan_number(row.value),
            None if row.at_stake is None else yuan_number(row.at_stake),
            yuan_number(row.spend),
        ]
        for row in rows
    ]


def export_sheet(
    request: HttpRequest, table: str, scope: Scope
) -> tuple[str, list[str], list[list[Any]]]:
    actor: Actor = request.actor
    merchant = actor.merchant
    if table == "pareto":
        pareto = selectors.pareto_share(merchant, scope.since, scope.until, scope.store)
        headers = [_("Share of members (%)"), _("Share of members' sales (%)")]
        rows = [[round(m * 100, 1), round(s * 100, 2)] for m, s in pareto.curve]
        return _("Pareto"), headers, rows
    if table == "alive":
        spread = selectors.alive_spread(merchant, scope.store)
        headers = [_("Probability still active"), _("Members")]
        return _("P(alive)"), headers, [[band_label(i), n] for i, n in enumerate(spread)]
    if table == "top":
        insights = selectors.top_expected(merchant, scope.store)
        title = _("Top expected value")
    else:
        insights = selectors.likely_lost(merchant, scope.store)
        title = _("Likely lost")
    rows = member_rows(insights)
    audit(
        actor,
        AuditEntry.Action.EXPORT,
        merchant,
        {"count": [None, len(rows)], "unmasked": [None, False], "format": [None, "xlsx"]},
        label=_("Member value export: %(table)s") % {"table": title},
    )
    headers, body = member_sheet(rows)
    return title, headers, body


@may_see_value
@require_GET
def value_export(request: HttpRequest, table: str) -> HttpResponse:
    if table not in TABLES:
        raise Http404
    _form, scope = scope_for(request)
    title, headers, rows = export_sheet(request, table, scope)
    response = HttpResponse(workbook(title, headers, rows), content_type=XLSX_TYPE)
    name = f"value-{table}-{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- the member page's card ------------------------------------------------------------------


def value_panel(request: HttpRequest, member: Member) -> SafeString | str:
    try:
        insight = member.insight
    except ObjectDoesNotExist:
        insight = None
    if insight is None or insight.p_alive is None:
        return ""
    context = {
        "member": member,
        "alive": alive_words(insight.p_alive),
        "alive_percent": percent(insight.p_alive),
        "visits": (
            visits_words(insight.expected_visits_90d)
            if insight.expected_visits_90d is not None
            else None
        ),
        "value": (
            yuan(insight.expected_value_90d) if insight.expected_value_90d is not None else None
        ),
    }
    return render_to_string("insight/value/_member_panel.html", context, request=request)
