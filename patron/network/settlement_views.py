"""Console pages of the settlement between stores: a month's statement (HQ: every store; a
store manager: the pairs of their store), the flows behind a pair, the xlsx and the close."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from patron.core.downloads import XLSX_TYPE
from patron.core.errors import DomainError
from patron.core.templatetags.months import month_label
from patron.network import settlement_exports as exports
from patron.network import settlement_selectors as selectors
from patron.network import settlement_services as services
from patron.tenancy.models import Role
from patron.tenancy.permissions import require_role

may_read = require_role(Role.HQ_ADMIN, Role.STORE_MANAGER)


def _month(request: HttpRequest) -> tuple[str, str]:
    """The month asked for (default: last month) and a message when it is malformed."""
    asked = request.GET.get("month", "").strip()
    fallback = selectors.last_month(request.actor.merchant)
    if not asked:
        return fallback, ""
    try:
        return selectors.parse_month(asked), ""
    except DomainError as problem:
        return fallback, str(problem.errors[0].message)


def chart_spec(found: selectors.Statement) -> dict[str, Any]:
    """The nets per store as a bar chart for patron/home's charts.js."""
    net = found.net
    return {
        "type": "bar",
        "title": _("Net per store"),
        "unit": "yuan",
        "labels": [found.name(code) for code in net],
        "series": [{"key": "net", "name": _("Net (owed + / owes −)")}],
        "views": [
            {
                "key": "all",
                "label": month_label(found.month),
                "values": {"net": [v / 100 for v in net.values()]},
            }
        ],
    }


@may_read
@require_GET
def statement(request: HttpRequest) -> HttpResponse:
    month, error = _month(request)
    found = selectors.statement(request.actor, month)
    if request.GET.get("format") == "xlsx":
        response = HttpResponse(exports.workbook(found), content_type=XLSX_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{exports.filename(found)}"'
        return response
    rows = [
        {"row": row, "payer": found.name(row.payer), "payee": found.name(row.payee)}
        for row in found.rows
    ]
    net = [{"code": code, "name": found.name(code), "amount": v} for code, v in found.net.items()]
    return render(
        request,
        "network/settlement/statement.html",
        {
            "found": found,
            "month": month,
            "month_error": error,
            "rows": rows,
            "net": net,
            "chart": chart_spec(found) if net else None,
            "late": [
                {
                    "occurred_at": line.occurred_at,
                    "payer_name": found.name(line.payer),
                    "payee_name": found.name(line.payee),
                    "amount": line.amount,
                    "sale_id": line.sale_id,
                }
                for line in found.late()
            ],
            "store_name": found.name(found.store) if found.store else "",
            "activities": [
                a | {"payer_name": found.name(a["payer"]), "payee_name": found.name(a["payee"])}
                for a in found.activities()
            ],
            "may_close": request.actor.role == Role.HQ_ADMIN
            and found.status == "open"
            and timezone.now() >= selectors.month_end(request.actor.merchant, month),
        },
    )


@may_read
@require_GET
def pair(request: HttpRequest, month: str, payer: str, payee: str) -> HttpResponse:
    try:
        month = selectors.parse_month(month)
    except DomainError:
        return redirect("settlements:statement")
    found = selectors.statement(request.actor, month)
    flows = selectors.pair_lines(request.actor, month, payer, payee)
    for flow in flows:
        flow["topup_name"] = found.name(flow["topup_store"]) if flow["topup_store"] else ""
    total = sum(f["amount"] for f in flows)
    return render(
        request,
        "network/settlement/pair.html",
        {
            "found": found,
            "month": month,
            "payer": found.name(payer),
            "payee": found.name(payee),
            "flows": flows,
            "total": total,
            "total_abs": abs(total),
        },
    )


@may_read
@require_http_methods(["GET", "POST"])
def close(request: HttpRequest, month: str) -> HttpResponse:
    if request.actor.role != Role.HQ_ADMIN:
        raise PermissionDenied
    back = reverse("settlements:statement") + f"?month={month}"
    error = ""
    if request.method == "POST":
        try:
            services.close_month(request.actor, month, key=request.POST.get("key", ""))
        except DomainError as problem:
            error = str(problem.errors[0].message if problem.errors else problem)
        else:
            messages.success(
                request, _("%(month)s is closed: its statement is frozen.") % {"month": month}
            )
            return redirect(back)
    return render(
        request,
        "network/settlement/close.html",
        {"month": month, "error": error, "back": back, "key": f"console:{uuid.uuid4()}"},
        status=422 if error else 200,
    )
