"""`patron import products FILE.xlsx|csv --merchant SLUG`: the catalogue from a spreadsheet.

The columns are the PUT body's (API.md §6): sku, name, category, price (fen), barcode, brand,
size, colour, active; Chinese headers (商品编码, 名称, 分类, 价格, 条码 …) and a price in yuan
(`price_yuan`, 售价(元)) are read too, and a category may be given by its name (客房) as well
as its code. Each row is put through `services.put_product`, so re-running a file updates the
products it names and never duplicates one; an empty optional cell leaves that field as it is.
A bad row is reported with its number and column and skips only itself.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django import forms
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from patron.catalogue import services
from patron.core.errors import DomainError
from patron.core.forms import parse_yuan
from patron.core.text import parse_int
from patron.program.selectors import category_names
from patron.tenancy.actor import Actor
from patron.tenancy.selectors import merchant_by_slug

MAX_FILE_BYTES = 16 * 1024 * 1024
ERRORS_SHOWN = 20
# Header (lower case, spaces dropped) -> the field it fills.
HEADERS = {
    "sku": "sku", "商品编码": "sku", "编码": "sku", "货号": "sku",
    "name": "name", "名称": "name", "商品名称": "name", "品名": "name",
    "category": "category", "分类": "category", "类别": "category", "品类": "category",
    "price": "price", "价格": "price", "价格(分)": "price", "售价(分)": "price",
    "price_yuan": "price_yuan", "价格(元)": "price_yuan", "售价(元)": "price_yuan",
    "售价": "price_yuan",
    "barcode": "barcode", "条码": "barcode", "条形码": "barcode",
    "brand": "brand", "品牌": "brand",
    "size": "size", "规格": "size", "尺码": "size",
    "colour": "colour", "color": "colour", "颜色": "colour",
    "active": "active", "启用": "active", "在售": "active",
}  # fmt: skip
REQUIRED = ("sku", "name", "category")
TRUE_WORDS = {"1", "true", "yes", "y", "是", "启用", "在售"}
FALSE_WORDS = {"0", "false", "no", "n", "否", "停用", "停售"}


@dataclass(frozen=True)
class RowError:
    row: int  # as the spreadsheet numbers it: the header is row 1
    column: str
    message: str


@dataclass
class ImportResult:
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len({error.row for error in self.errors})


class UnreadableFile(DomainError):
    def __init__(self, detail: str) -> None:
        super().__init__(detail=detail, code="unreadable_file", status=400)


# --- reading ---------------------------------------------------------------------------------


def read_rows(path: Path) -> list[tuple[Any, ...]]:
    if not path.is_file():
        raise UnreadableFile(_("No such file: %s") % path)
    data = path.read_bytes()
    if len(data) > MAX_FILE_BYTES:
        raise UnreadableFile(_("The file is larger than 16 MB: split it into several files."))
    if data.startswith(b"PK\x03\x04"):
        return _xlsx_rows(data)
    if path.suffix.lower() in (".xlsx", ".xls") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile(_("%s is not an .xlsx workbook: save it as .xlsx or CSV.") % path.name)
    return list(csv.reader(io.StringIO(_text(data), newline="")))


def _xlsx_rows(data: bytes) -> list[tuple[Any, ...]]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as problem:  # openpyxl raises many kinds for a damaged file
        raise UnreadableFile(_("Cannot read the workbook: %s") % problem) from None
    try:
        return [tuple(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()


def _text(data: bytes) -> str:
    """CSV text in UTF-8 (with or without BOM), UTF-16 or GBK (Chinese Excel's "CSV")."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(_("The file is not text in UTF-8 or GBK, nor an .xlsx workbook."))


def _header_fields(header: tuple[Any, ...]) -> list[str | None]:
    names = [str(cell or "").strip().lower().replace(" ", "") for cell in header]
    fields = [HEADERS.get(name) for name in names]
    unknown = [str(cell) for cell, found in zip(header, fields, strict=True) if cell and not found]
    missing = [name for name in REQUIRED if name not in fields]
    if "price" not in fields and "price_yuan" not in fields:
        missing.append("price")
    if unknown or missing:
        parts = []
        if unknown:
            parts.append(_("unknown columns: %s") % ", ".join(unknown))
        if missing:
            parts.append(_("missing columns: %s") % ", ".join(missing))
        raise UnreadableFile(_("The header row does not fit (%s).") % "; ".join(parts))
    return fields


# --- one row ---------------------------------------------------------------------------------


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel keeps numbers (6800, barcodes) as floats
    return str(value).strip()


def _row_body(fields: list[str | None], cells: tuple[Any, ...], names: dict[str, str]):
    """(sku, the PUT body) of one row; raises ValueError (column, message) for a bad cell."""
    body: dict[str, Any] = {}
    for name, value in zip(fields, cells, strict=False):
        text = _cell_text(value)
        if name is None or text == "":
            continue
        if name == "price":
            price = parse_int(text, low=-(10**15), high=10**15)
            if price is None:
                raise ValueError(name, _("The price is a whole number of fen."))
            body["price"] = price
        elif name == "price_yuan":
            try:
                body["price"] = parse_yuan(text)
            except forms.ValidationError as problem:
                raise ValueError(name, " ".join(problem.messages)) from None
        elif name == "active":
            if text.lower() not in TRUE_WORDS | FALSE_WORDS:
                raise ValueError(name, _("Write 1 or 0 (是 / 否)."))
            body["active"] = text.lower() in TRUE_WORDS
        elif name == "category":
            body["category"] = names.get(text, text)
        else:
            body[name] = text
    return body.pop("sku", ""), body


def import_products(actor: Actor, path: Path) -> ImportResult:
    rows = read_rows(path)
    start = next((i for i, row in enumerate(rows) if any(_cell_text(c) for c in row)), None)
    if start is None:
        raise UnreadableFile(_("The file has no header row."))
    fields = _header_fields(rows[start])
    # A category may be named as the screens show it (客房) as well as by its code.
    names = {name: code for code, name in category_names(actor.merchant).items()}
    result = ImportResult()
    for number, cells in enumerate(rows[start + 1 :], start=start + 2):
        if not any(_cell_text(cell) for cell in cells):
            continue
        result.rows_read += 1
        _import_row(actor, number, fields, cells, names, result)
    return result


def _import_row(actor, number, fields, cells, names, result: ImportResult) -> None:
    try:
        sku, body = _row_body(fields, cells, names)
        put = services.put_product(actor, sku, body)
    except ValueError as problem:
        column, message = problem.args
        result.errors.append(RowError(number, column, message))
        return
    except DomainError as problem:
        for error in problem.errors or []:
            result.errors.append(RowError(number, error.field, str(error.message)))
        if not problem.errors:
            result.errors.append(RowError(number, "", str(problem.detail)))
        return
    if put.created:
        result.created += 1
    elif put.changed:
        result.updated += 1
    else:
        result.unchanged += 1


# --- the command -----------------------------------------------------------------------------


def add_arguments(parser) -> None:
    parser.add_argument("file", help="the .xlsx or .csv file")
    parser.add_argument("--merchant", required=True, help="merchant slug")


def run_command(command: BaseCommand, options: dict[str, Any]) -> None:
    actor = Actor.system(merchant_by_slug(options["merchant"]))
    try:
        result = import_products(actor, Path(options["file"]))
    except UnreadableFile as problem:
        raise CommandError(str(problem)) from None
    out = command.stdout
    out.write(f"Rows read:        {result.rows_read}")
    out.write(f"New products:     {result.created}")
    out.write(f"Updated:          {result.updated}")
    out.write(f"Unchanged:        {result.unchanged}")
    out.write(f"Rows with errors: {result.rejected} (not imported)")
    if result.errors:
        out.write("Errors:")
        for error in result.errors[:ERRORS_SHOWN]:
            column = f", {error.column}" if error.column else ""
            out.write(f"  row {error.row}{column}: {error.message}")
        if len(result.errors) > ERRORS_SHOWN:
            out.write(f"  … and {len(result.errors) - ERRORS_SHOWN} more")
