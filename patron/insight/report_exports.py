"""The dashboard's tables as xlsx workbooks: one table per workbook, or `all` of them as
sheets of one. Money in yuan as numbers (the sheet formats them), shares as percentages."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from patron.core.money import yuan_number

TABLES = {
    "stores": gettext_lazy("Store ranking"),
    "staff": gettext_lazy("Staff ranking"),
    "coupons": gettext_lazy("Coupon cost and return"),
    "owners": gettext_lazy("Discounts by owner (HQ and stores)"),
    "liabilities": gettext_lazy("Liabilities"),
    "diagnosis": gettext_lazy("Store diagnosis"),
    "all": gettext_lazy("All tables"),
}
MONEY, COUNT, SHARE, PLAIN = "money", "count", "share", "plain"


@dataclass
class Book:
    content: bytes
    rows: int  # data rows written, over every sheet


@dataclass
class Table:
    title: str
    columns: list[tuple[str, str]]  # (heading, kind)
    rows: list[list[Any]]


def store_table(figures: dict[str, Any]) -> Table:
    return Table(
        str(TABLES["stores"]),
        [
            (_("Rank"), COUNT),
            (_("Store code"), PLAIN),
            (_("Store"), PLAIN),
            (_("Sales (yuan)"), MONEY),
            (_("Member sales (yuan)"), MONEY),
            (_("Sales count"), COUNT),
            (_("Active members"), COUNT),
            (_("New members"), COUNT),
        ],
        [
            [
                r["rank"],
                r["store"] or "",
                str(r["name"]),
                r["sales"],
                r["member_sales"],
                r["count"],
                r["active_members"],
                r["new_members"],
            ]
            for r in figures["stores"]
        ],
    )


def staff_table(figures: dict[str, Any]) -> Table:
    return Table(
        str(TABLES["staff"]),
        [
            (_("Rank"), COUNT),
            (_("User name"), PLAIN),
            (_("Staff"), PLAIN),
            (_("Sales (yuan)"), MONEY),
            (_("Member sales (yuan)"), MONEY),
            (_("Sales count"), COUNT),
            (_("Members recruited"), COUNT),
        ],
        [
            [
                r["rank"],
                r["username"] or "",
                str(r["name"]),
                r["sales"],
                r["member_sales"],
                r["count"],
                r["new_members"],
            ]
            for r in figures["staff"]
        ],
    )


def coupon_table(figures: dict[str, Any]) -> Table:
    return Table(
        str(TABLES["coupons"]),
        [
            (_("Coupon code"), PLAIN),
            (_("Coupon"), PLAIN),
            (_("Issued"), COUNT),
            (_("Used"), COUNT),
            (_("Discount given (yuan)"), MONEY),
            (_("Sales with it (yuan)"), MONEY),
            (_("Sales per yuan of discount"), PLAIN),
        ],
        [
            [
                r["code"],
                r["name"],
                r["issued"],
                r["used"],
                r["cost"],
                r["sales"],
                r["return_ratio"] if r["return_ratio"] is not None else "",
            ]
            for r in figures["coupons"]["by_template"]
        ],
    )


def owner_table(figures: dict[str, Any]) -> Table:
    return Table(
        str(TABLES["owners"]),
        [
            (_("Run by"), PLAIN),
            (_("Discounts applied"), COUNT),
            (_("Discount given (yuan)"), MONEY),
            (_("Sales influenced"), COUNT),
            (_("Sales influenced (yuan)"), MONEY),
        ],
        [
            [r["name"], r["applications"], r["discount"], r["sales_count"], r["sales"]]
            for r in figures["owners"]
        ],
    )


def liability_table(figures: dict[str, Any]) -> Table:
    return Table(
        str(TABLES["liabilities"]),
        [
            (_("Store code"), PLAIN),
            (_("Store"), PLAIN),
            (_("Principal (yuan)"), MONEY),
            (_("Bonus (yuan)"), MONEY),
            (_("Stored value (yuan)"), MONEY),
            (_("Points"), COUNT),
            (_("Points value (yuan)"), MONEY),
        ],
        [
            [
                r["store"] or "",
                str(r["name"]),
                r["principal"],
                r["bonus"],
                r["stored_value"],
                r["points"],
                r["points_value"],
            ]
            for r in figures["liabilities"]["by_store"]
        ],
    )


def diagnosis_table(figures: dict[str, Any]) -> Table:
    return Table(
        str(TABLES["diagnosis"]),
        [
            (_("Store code"), PLAIN),
            (_("Store"), PLAIN),
            (_("Member visits"), COUNT),
            (_("Buying members"), COUNT),
            (_("Visits per member"), PLAIN),
            (_("Spend per visit (yuan)"), MONEY),
            (_("Reading"), PLAIN),
        ],
        [
            [
                r["store"],
                r["name"],
                r["visits"],
                r["members"],
                r["activity"],
                r["loyalty"],
                str(r["reading"]),
            ]
            for r in figures["diagnosis"]["stores"]
        ],
    )


BUILDERS: dict[str, Callable[[dict[str, Any]], Table]] = {
    "stores": store_table,
    "staff": staff_table,
    "coupons": coupon_table,
    "owners": owner_table,
    "liabilities": liability_table,
    "diagnosis": diagnosis_table,
}


def cell(value: Any, kind: str) -> Any:
    return yuan_number(value) if kind == MONEY and isinstance(value, int) else value


def add_sheet(book, table: Table, heading: str) -> None:
    from openpyxl.styles import Font

    sheet = book.create_sheet(table.title[:31])
    sheet.append([heading])
    sheet.append([column for column, _kind in table.columns])
    for row in table.rows:
        sheet.append(
            [cell(value, kind) for value, (_col, kind) in zip(row, table.columns, strict=True)]
        )
    bold = Font(bold=True)
    for each in (*sheet[1], *sheet[2]):
        each.font = bold
    for index, (_column, kind) in enumerate(table.columns, start=1):
        letter = sheet.cell(row=2, column=index).column_letter
        sheet.column_dimensions[letter].width = 22 if kind == PLAIN else 16
        if kind in (MONEY, COUNT):
            for each in sheet[letter][2:]:
                each.number_format = "#,##0.00" if kind == MONEY else "#,##0"


def workbook(figures: dict[str, Any], table: str, merchant: str) -> Book:
    """The workbook of `table` (a key of TABLES) for the dashboard `figures`."""
    from openpyxl import Workbook

    heading = _("%(merchant)s · %(first)s to %(last)s · %(store)s") % {
        "merchant": merchant,
        "first": formats.date_format(figures["from"], "DATE_FORMAT"),
        "last": formats.date_format(figures["to"], "DATE_FORMAT"),
        "store": figures["store"] or _("All stores"),
    }
    book = Workbook()
    book.remove(book.active)
    names = list(BUILDERS) if table == "all" else [table]
    rows = 0
    for name in names:
        built = BUILDERS[name](figures)
        add_sheet(book, built, heading)
        rows += len(built.rows)
    out = io.BytesIO()
    book.save(out)
    return Book(out.getvalue(), rows)
