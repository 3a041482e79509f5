"""Console pages of staff commissions: the monthly statement (xlsx too), the leaderboard, and
the till's panel (the cashier's own month and their store's top 5)."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from patron.core.downloads import XLSX_TYPE
from patron.core.errors import DomainError
from patron.core.money import yuan_number
from patron.network import commission_selectors as selectors
from patron.tenancy.actor import Actor
from patron.tenancy.permissions import console_view
from patron.tenancy.selectors import active_stores

TILL_TOP = 5


def _month(request: HttpRequest) -> tuple[dt.date, str]:
    """The month asked for (this month when none or malformed) and what was wrong with it."""
    actor: Actor = request.actor
    try:
        return selectors.parse_month(request.GET.get("month"), actor.merchant.timezone), ""
    except DomainError as error:
        return selectors.parse_month(None, actor.merchant.timezone), str(error.detail)


def _rows(request: HttpRequest, first: dt.date) -> list[selectors.Row]:
    store = request.GET.get("store", "")[:32]
    return selectors.statement(request.actor, first, store=store)


def _context(request: HttpRequest, here: str) -> dict[str, Any]:
    first, problem = _month(request)
    rows = _rows(request, first)
    actor: Actor = request.actor
    return {
        "here": here,
        "first": first,
        "month": first.strftime("%Y-%m"),
        "problem": problem,
        "rows": rows,
        "totals": selectors.totals(rows),
        "stores": [] if actor.store_bound else list(active_stores(actor.merchant)),
        "store": request.GET.get("store", ""),
        "query": request.GET.urlencode(),
    }


@require_GET
@console_view
def statement(request: HttpRequest) -> HttpResponse:
    context = _context(request, "statement")
    if request.GET.get("format") == "xlsx":
        return _xlsx(context["rows"], context["month"])
    return render(request, "network/commissions/statement.html", context)


@require_GET
@console_view
def leaderboard(request: HttpRequest) -> HttpResponse:
    context = _context(request, "leaderboard")
    context["rows"] = selectors.leaderboard(context["rows"])
    return render(request, "network/commissions/leaderboard.html", context)


@require_GET
@console_view
def staff_detail(request: HttpRequest, username: str) -> HttpResponse:
    """What is behind one staff's row: the cards they sold, the top-ups they took and the
    members they recruited in the month, each linked to its page."""
    first, problem = _month(request)
    found = selectors.behind(
        request.actor, first, username[:150], request.GET.get("store", "")[:32]
    )
    if found is None:
        raise Http404(_("Not found"))
    context = {"first": first, "month": first.strftime("%Y-%m"), "problem": problem, "found": found}
    return render(request, "network/commissions/staff.html", context)


@require_GET
@console_view
def till(request: HttpRequest) -> HttpResponse:
    """The till's panel: my figures this month, and the top 5 of the till's store."""
    actor: Actor = request.actor
    first = selectors.parse_month(None, actor.merchant.timezone)
    store = actor.store_bound.code if actor.store_bound else request.GET.get("store", "")[:32]
    board = selectors.statement(actor, first, store=store, everyone=True)
    mine = [row for row in board if actor.staff and row.user_id == actor.staff.user_id]
    context = {
        "first": first,
        "mine": mine[0] if mine else None,
        "top": selectors.leaderboard(board)[:TILL_TOP],
        "me": actor.staff.user_id if actor.staff else None,
    }
    return render(request, "network/commissions/_till.html", context)


def _xlsx(rows: list[selectors.Row], month: str) -> HttpResponse:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("Staff commissions")[:31]
    sheet.append(
        [
            _("User name"),
            _("Staff"),
            _("Store"),
            _("Cards sold"),
            _("Commission on cards (yuan)"),
            _("Topped up (yuan)"),
            _("Commission on top-ups (yuan)"),
            _("Members recruited"),
            _("Ladder bonus (yuan)"),
            _("Commission (yuan)"),
        ]
    )
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(
            [
                row.staff,
                row.name,
                row.store_name,
                row.cards,
                yuan_number(row.card_amount),
                yuan_number(row.topup_amount),
                yuan_number(row.topup_commission),
                row.recruited,
                yuan_number(row.ladder_bonus),
                yuan_number(row.amount),
            ]
        )
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="commissions-{month}.xlsx"'
    return response
