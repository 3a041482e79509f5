""" "Due to buy again" (F-33): members whose own purchase cycle of a category says they will
buy it again soon (or are late), for the store to call or message them. HQ sees every store's
members, a store manager their own store's; mobiles are masked; the xlsx export is audited.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import openpyxl
from django import forms
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from patron.core.downloads import XLSX_TYPE
from patron.insight.models import Facet, MemberFacet
from patron.members.validation import mask_mobile
from patron.program.models import Category
from patron.sales.profile import category_names
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Role, Store
from patron.tenancy.permissions import require_role
from patron.tenancy.services import audit

may_see = require_role(Role.HQ_ADMIN, Role.STORE_MANAGER, Role.MARKETER)
PAGE_SIZE = 50
OVERDUE_DAYS = 30
WINDOWS = {
    "week": gettext_lazy("This week"),
    "next7": gettext_lazy("Next 7 days"),
    "overdue": gettext_lazy("Overdue (up to 30 days)"),
}
DEFAULT_WINDOW = "next7"


def window_bounds(window: str, now: dt.datetime, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a window in the merchant's zone: this calendar week (Monday to Sunday),
    the next 7 days from now, or the 30 days before now."""
    local = now.astimezone(zone)
    if window == "week":
        monday = local.date() - dt.timedelta(days=local.weekday())
        start = dt.datetime(monday.year, monday.month, monday.day, tzinfo=zone)
        return start, start + dt.timedelta(days=7)
    if window == "overdue":
        return now - dt.timedelta(days=OVERDUE_DAYS), now
    return now, now + dt.timedelta(days=7)


def due_facets(
    actor: Actor,
    window: str,
    *,
    category: str = "",
    store: Store | None = None,
    now: dt.datetime | None = None,
) -> QuerySet[MemberFacet]:
    """The category facets due in `window`, soonest first, of the members the actor may see
    (a store-bound role: members of its store)."""
    start, end = window_bounds(window, now or timezone.now(), ZoneInfo(actor.merchant.timezone))
    found = MemberFacet.objects.filter(
        merchant=actor.merchant, kind=Facet.CATEGORY, due_at__gte=start, due_at__lt=end
    )
    bound = actor.store_bound
    if bound is not None:
        found = found.filter(member__store=bound)
    elif store is not None:
        found = found.filter(member__store=store)
    if category:
        found = found.filter(value=category)
    return found.select_related("member", "member__store").order_by("due_at", "member_id", "pk")


class DueFilters(forms.Form):
    window = forms.ChoiceField(
        label=gettext_lazy("When"), choices=WINDOWS.items(), required=False, initial=DEFAULT_WINDOW
    )
    category = forms.ChoiceField(label=gettext_lazy("Category"), required=False)
    store = forms.ChoiceField(label=gettext_lazy("Store"), required=False)

    def __init__(self, data, *, actor: Actor) -> None:
        super().__init__(data)
        # The program's categories and those only history brought (an old system's codes).
        bought = MemberFacet.objects.filter(merchant=actor.merchant, kind=Facet.CATEGORY)
        codes = sorted(
            set(Category.objects.filter(merchant=actor.merchant).values_list("code", flat=True))
            | set(bought.values_list("value", flat=True).distinct())
        )
        names = category_names(actor.merchant.pk, codes)
        self.fields["category"].choices = [("", _("All categories"))] + [
            (code, names.get(code, code)) for code in codes
        ]
        if actor.store_bound is not None:
            del self.fields["store"]
        else:
            stores = Store.objects.filter(merchant=actor.merchant).order_by("code")
            self.fields["store"].choices = [("", _("All stores"))] + [
                (store.code, store.name) for store in stores
            ]


@dataclass(frozen=True)
class DueRow:
    facet: MemberFacet
    name: str
    mobile: str
    category: str
    cycle_days: int
    last_at: dt.datetime
    due_at: dt.datetime
    days_late: int  # days past due (0: not yet due)


def due_rows(actor: Actor, facets: list[MemberFacet], now: dt.datetime) -> list[DueRow]:
    names = category_names(actor.merchant.pk, sorted({facet.value for facet in facets}))
    zone = ZoneInfo(actor.merchant.timezone)
    return [
        DueRow(
            facet=facet,
            name=facet.member.name or facet.member.card_no,
            mobile=mask_mobile(facet.member.mobile),
            category=names.get(facet.value, facet.value),
            cycle_days=round(facet.cycle_days or 0),
            last_at=facet.last_at.astimezone(zone),
            due_at=facet.due_at.astimezone(zone),
            days_late=max((now - facet.due_at).days, 0),
        )
        for facet in facets
    ]


def _chosen(request: HttpRequest, actor: Actor) -> tuple[DueFilters, str, str, Store | None]:
    filters = DueFilters(request.GET or None, actor=actor)
    window, category, store = DEFAULT_WINDOW, "", None
    if filters.is_bound and filters.is_valid():
        window = filters.cleaned_data["window"] or DEFAULT_WINDOW
        category = filters.cleaned_data["category"]
        code = filters.cleaned_data.get("store")
        if code:
            store = Store.objects.filter(merchant=actor.merchant, code=code).first()
    return filters, window, category, store


@may_see
def due_list(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor
    filters, window, category, store = _chosen(request, actor)
    now = timezone.now()
    found = due_facets(actor, window, category=category, store=store, now=now)
    if request.GET.get("export") == "xlsx":
        return export_due(actor, found, now, window)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filters": filters,
        "window": window,
        "window_label": WINDOWS[window],
        "page": page,
        "rows": due_rows(actor, list(page.object_list), now),
    }
    return render(request, "insight/due.html", context)


def export_due(actor: Actor, found: QuerySet[MemberFacet], now: dt.datetime, window: str):
    """The whole list as .xlsx, masked, audited before a row leaves (as the members export)."""
    facets = list(found)
    audit(
        actor,
        AuditEntry.Action.EXPORT,
        actor.merchant,
        {"count": [None, len(facets)], "unmasked": [None, False], "format": [None, "xlsx"]},
        label=_("Due to buy again export"),
    )
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Due to buy again"))
    sheet.append(
        [
            _("Member"),
            _("Card number"),
            _("Mobile"),
            _("Store"),
            _("Category"),
            _("Cycle (days)"),
            _("Last bought"),
            _("Due"),
        ]
    )
    for row in due_rows(actor, facets, now):
        store = row.facet.member.store
        sheet.append(
            [
                row.name,
                row.facet.member.card_no,
                row.mobile,
                store.name if store else "",
                row.category,
                row.cycle_days,
                row.last_at.strftime("%Y-%m-%d"),
                row.due_at.strftime("%Y-%m-%d"),
            ]
        )
    out = io.BytesIO()
    workbook.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX_TYPE)
    stamp = now.astimezone(ZoneInfo(actor.merchant.timezone)).strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="due-{window}-{stamp}.xlsx"'
    return response
