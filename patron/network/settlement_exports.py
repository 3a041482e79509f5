"""A month's settlement statement as an xlsx workbook: pairs, nets, activities, late uploads
and every flow behind them. Money in yuan as numbers (the sheet formats them)."""

from __future__ import annotations

import io
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from patron.core.money import yuan_number
from patron.network.settlement_selectors import Statement

MONEY_FORMAT = "#,##0.00"


def _sheet(book, title: str, heading: list[str], rows: list[list[Any]], money: set[int]) -> None:
    from openpyxl.styles import Font

    sheet = book.create_sheet(title[:31])
    sheet.append(heading)
    for row in rows:
        sheet.append([yuan_number(v) if i in money else v for i, v in enumerate(row)])
    for each in sheet[1]:
        each.font = Font(bold=True)
    for index in range(1, len(heading) + 1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = 18 if index - 1 in money else 24
        if index - 1 in money:
            for each in sheet[letter][1:]:
                each.number_format = MONEY_FORMAT


def _when(moment) -> str:
    return date_format(timezone.localtime(moment), "Y-m-d H:i")


def workbook(found: Statement) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    name = found.name
    _sheet(
        book,
        _("Pairs"),
        [_("Payer"), _("Payee"), _("Amount (yuan)")],
        [[name(r.payer), name(r.payee), r.amount] for r in found.rows],
        {2},
    )
    _sheet(
        book,
        _("Net per store"),
        [_("Store"), _("Net (yuan)")],
        [[name(code), amount] for code, amount in found.net.items()],
        {1},
    )
    _sheet(
        book,
        _("Activities"),
        [_("Activity"), _("Payer"), _("Payee"), _("Amount (yuan)")],
        [
            [a["activity"], name(a["payer"]), name(a["payee"]), a["amount"]]
            for a in found.activities()
        ],
        {3},
    )
    _sheet(
        book,
        _("Flows"),
        [_("Time"), _("Kind"), _("Payer"), _("Payee"), _("Amount (yuan)"), _("Sale"), _("Late")],
        [
            [
                _when(line.occurred_at),
                str(line.label or _("Stored value")),
                name(line.payer),
                name(line.payee),
                line.amount,
                line.sale_id or "",
                _("yes") if line.late else "",
            ]
            for line in found.lines
            if found.store is None or found.store in (line.payer, line.payee)
        ],
        {4},
    )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def filename(found: Statement) -> str:
    return f"settlement-{found.month}.xlsx"
