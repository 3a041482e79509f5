"""Console pages of the ledger's own: the merchant's outstanding liabilities (F-49) as of any
day, on screen and as a workbook. A member's balances, history and top-ups are the wallet's
pages (patron.wallet), which can read members; the ledger knows members by id only."""

from __future__ import annotations

import datetime as dt
import io

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from patron.core.dates import end_of_day
from patron.core.downloads import XLSX_TYPE
from patron.core.money import yuan_number
from patron.ledger.forms import LiabilitiesForm
from patron.ledger.selectors import LiabilityReport, liability_report
from patron.tenancy.models import Role
from patron.tenancy.permissions import require_role

LIABILITY_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER)

may_see_liabilities = require_role(*LIABILITY_ROLES)


# --- liabilities -----------------------------------------------------------------------------


def liability_moment(form: LiabilitiesForm) -> dt.datetime | None:
    """The end of the chosen day in the merchant's zone; None (now) without a valid day."""
    if not form.is_bound or not form.is_valid():
        return None
    day = form.cleaned_data.get("as_of")
    return end_of_day(day) if day else None


@may_see_liabilities
@require_GET
def liabilities(request: HttpRequest) -> HttpResponse:
    form = LiabilitiesForm(request.GET or None)
    as_of = liability_moment(form)
    context = {
        "form": form,
        "report": liability_report(request.actor, as_of),
        "now": timezone.now(),
        "export_query": request.GET.urlencode(),
    }
    return render(request, "ledger/liabilities.html", context)


def liability_workbook(report: LiabilityReport, title: str, moment: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("Liabilities")[:31]
    sheet.append([title])
    sheet.append([moment])
    sheet.append(
        [
            _("Store code"),
            _("Store"),
            _("Principal (yuan)"),
            _("Bonus (yuan)"),
            _("Stored value (yuan)"),
            _("Points"),
            _("Points value (yuan)"),
        ]
    )
    header_row = sheet.max_row
    for row in [*report.rows, report.total]:
        sheet.append(
            [
                row.store_code or "",
                str(row.store_name),
                yuan_number(row.principal),
                yuan_number(row.bonus),
                yuan_number(row.stored_value),
                row.points,
                yuan_number(row.points_value),
            ]
        )
    bold = Font(bold=True)
    for cell in (*sheet[1], *sheet[header_row], *sheet[sheet.max_row]):
        cell.font = bold
    for column in ("C", "D", "E", "G"):
        for cell in sheet[column][header_row:]:
            cell.number_format = "#,##0.00"
    for cell in sheet["F"][header_row:]:
        cell.number_format = "#,##0"
    for column, width in zip("ABCDEFG", (12, 24, 16, 16, 18, 14, 18), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@may_see_liabilities
@require_GET
def liabilities_export(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    form = LiabilitiesForm(request.GET or None)
    as_of = liability_moment(form)
    report = liability_report(actor, as_of)
    shown = timezone.localtime(as_of or timezone.now())
    moment = _("As of %(moment)s (%(zone)s)") % {
        "moment": shown.strftime("%Y-%m-%d %H:%M:%S"),
        "zone": actor.merchant.timezone,
    }
    title = _("Outstanding stored value and points of %(merchant)s") % {
        "merchant": actor.merchant.name
    }
    response = HttpResponse(liability_workbook(report, title, moment), content_type=XLSX_TYPE)
    name = f"liabilities-{shown:%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
