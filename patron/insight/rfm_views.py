"""The console's RFM page (/insight/rfm/): heat map, lifecycle stages, the cells' table and
its workbook. HQ roles pick a home store or see the chain; a store manager sees their
store's members only."""

from __future__ import annotations

import io

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from patron.core.downloads import XLSX_TYPE
from patron.core.money import yuan_number
from patron.insight.rfm_report import RfmReport, chart_spec, rfm_report, store_for
from patron.tenancy.models import AuditEntry, Role, Store
from patron.tenancy.permissions import require_role
from patron.tenancy.services import audit

RFM_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER, Role.MARKETER)

may_see_rfm = require_role(*RFM_ROLES)


@may_see_rfm
@require_GET
def rfm_page(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    store = store_for(actor, request.GET.get("store"))
    report = rfm_report(actor, store)
    stores = (
        Store.objects.filter(merchant=actor.merchant, is_active=True).order_by("code")
        if actor.store_bound is None
        else Store.objects.none()
    )
    context = {
        "report": report,
        "spec": chart_spec(report),
        "stores": stores,
        "store": store,
        "export_query": f"?store={store.code}" if store and actor.store_bound is None else "",
    }
    return render(request, "insight/rfm.html", context)


def rfm_workbook(report: RfmReport, title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("RFM cells")[:31]
    sheet.append([title])
    sheet.append(
        [
            _("RFM cell"),
            _("Members"),
            _("Share"),
            _("Mean 12-month spend (yuan)"),
            _("Mean 12-month visits"),
        ]
    )
    for cell in report.cells:
        sheet.append(
            [
                cell.cell,
                cell.count,
                cell.share,
                yuan_number(cell.mean_spend),
                round(cell.mean_visits, 2),
            ]
        )
    for row in sheet.iter_rows(min_row=3, min_col=3, max_col=3):
        row[0].number_format = "0.0%"
    stages = book.create_sheet(_("Lifecycle")[:31])
    stages.append([_("Stage"), _("Members")])
    for stage in report.stages:
        stages.append([stage["label"], stage["count"]])
    bold = Font(bold=True)
    for cell in (*sheet[1], *sheet[2], *stages[1]):
        cell.font = bold
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@may_see_rfm
@require_GET
def rfm_export(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    store = store_for(actor, request.GET.get("store"))
    report = rfm_report(actor, store)
    where = store.name if store else _("all stores")
    audit(
        actor,
        AuditEntry.Action.EXPORT,
        actor.merchant,
        {"cells": [None, len(report.cells)], "store": [None, store.code if store else ""]},
        label=_("RFM export"),
    )
    title = _("RFM cells of %(merchant)s, %(where)s") % {
        "merchant": actor.merchant.name,
        "where": where,
    }
    response = HttpResponse(rfm_workbook(report, title), content_type=XLSX_TYPE)
    name = f"rfm-{timezone.localtime():%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
