"""Bulk import of members from Excel (.xlsx) and CSV files (F-03), and the import template.

Reading and checking write nothing: `read_rows` turns a file's bytes into rows of cell values,
`plan_columns` maps the header row (Chinese or English) to member fields, and `check_rows`
cleans every row with the same validation the API uses. `import_members` is the one service:
it records an `ImportBatch` and, unless it is a dry run, inserts the good rows with
`bulk_register` in one transaction. Re-running a file is safe: mobiles that already belong to
a member of the merchant are skipped, not duplicated.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import posixpath
import re
import time
import uuid
import zipfile
import zoneinfo
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, NoReturn
from xml.etree import ElementTree
from xml.parsers import expat

import openpyxl
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.styles.numbers import is_date_format
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel
from openpyxl.worksheet.datavalidation import DataValidation

from patron.core.errors import (
    Conflict,
    DomainError,
    FieldError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from patron.members.models import Channel, CustomField, Gender, ImportBatch, IncomeBand, Member
from patron.members.services import bulk_register, custom_field_definitions
from patron.members.validation import (
    Invalid,
    clean_custom,
    clean_member_fields,
    mask_mobile,
    normalize_mobile,
)
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Merchant, Role, Store
from patron.tenancy.services import audit

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_ROWS = 1_000_000
MAX_STORED_ERRORS = 10_000  # the batch keeps this many; the CLI report gets every one
PREVIEW_ROWS = 20
INSERT_CHUNK = 10_000  # rows per bulk_register call: bounds memory, same transaction
INSERT_ATTEMPTS = 3  # a random referral code may collide with an existing one: retry
IMPORT_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER)
DATA_SHEET_TITLE = "会员 Members"
INSTRUCTIONS_SHEET_TITLE = "说明 Instructions"
REPORT_HEADERS = ("行号 row", "列 column", "问题 problem")


# --- columns ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One importable column: the member field it fills and how the template explains it."""

    field: str
    zh: str
    en: str
    help_zh: str
    help_en: str
    example: str
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()  # offered as a drop-down list in the template


YES_NO = ("是", "否")
COLUMNS: tuple[Column, ...] = (
    Column(
        "mobile",
        "手机号",
        "mobile",
        "必填。中国大陆 11 位手机号，可带 +86；已是会员的手机号会跳过。",
        "Required. Mainland China mobile, 11 digits, +86 allowed; existing members are skipped.",
        "13800138000",
        ("手机", "手机号码"),
    ),
    Column("name", "姓名", "name", "最多 50 个字。", "At most 50 characters.", "张伟"),
    Column(
        "gender",
        "性别",
        "gender",
        "男 / 女 / 未知（也可写 M / F / U）。",
        "男 / 女 / 未知 (or M / F / U).",
        "女",
        choices=("男", "女", "未知"),
    ),
    Column(
        "birthday",
        "生日",
        "birthday",
        "公历日期 YYYY-MM-DD（1990/1/2、1990年1月2日 也可以）。",
        "Solar date YYYY-MM-DD (1990/1/2 works too).",
        "1990-01-02",
    ),
    Column(
        "lunar_birthday",
        "农历生日",
        "lunar_birthday",
        "农历 月-日，MM-DD。",
        "Lunar month-day, MM-DD.",
        "08-15",
    ),
    Column(
        "id_number",
        "身份证号",
        "id_number",
        "18 位居民身份证号。请把这一列设为“文本”格式，否则 Excel 会改掉后几位。",
        "18-digit resident ID. Format the column as text, or Excel rounds the last digits.",
        "11010519491231002X",
    ),
    Column("email", "邮箱", "email", "电子邮箱。", "Email address.", "zhangwei@example.com"),
    Column("region", "地区", "region", "省市区，最多 60 字。", "Province / city.", "浙江省杭州市"),
    Column("address", "地址", "address", "最多 200 字。", "At most 200 characters.", "北山街 1 号"),
    Column("occupation", "职业", "occupation", "最多 60 字。", "At most 60 characters.", "教师"),
    Column(
        "income_band",
        "收入",
        "income_band",
        "月收入：low（5千以下）/ middle（5千–1.5万）/ high（1.5万–5万）/ top（5万以上）。",
        "Monthly income: low (<5k) / middle (5k-15k) / high (15k-50k) / top (>50k).",
        "middle",
        choices=tuple(IncomeBand.values[1:]),
    ),
    Column(
        "tags",
        "标签",
        "tags",
        "多个标签用逗号或顿号分开，每个最多 30 字。",
        "Several tags separated by commas, at most 30 characters each.",
        "商务,美食家",
    ),
    Column(
        "consent_sms",
        "短信营销",
        "consent_sms",
        "是否同意接收营销短信：是 / 否。",
        "Agrees to marketing SMS: 是 / 否 (yes / no).",
        "是",
        choices=YES_NO,
    ),
    Column(
        "consent_wechat",
        "微信营销",
        "consent_wechat",
        "是否同意接收微信营销消息：是 / 否。",
        "Agrees to marketing WeChat messages: 是 / 否.",
        "否",
        choices=YES_NO,
    ),
    Column(
        "consent_email",
        "邮件营销",
        "consent_email",
        "是否同意接收营销邮件：是 / 否。",
        "Agrees to marketing email: 是 / 否.",
        "否",
        choices=YES_NO,
    ),
    Column(
        "store",
        "门店",
        "store",
        "门店编码（或门店名称）；留空则用导入时选择的默认门店。",
        "Store code (or name); empty uses the default store chosen for the import.",
        "S1",
    ),
    Column(
        "joined_at",
        "入会时间",
        "joined_at",
        "YYYY-MM-DD 或 YYYY-MM-DD HH:MM；留空为导入的时间。",
        "YYYY-MM-DD or YYYY-MM-DD HH:MM; empty means the time of the import.",
        "2024-05-01",
    ),
)
# Columns our own export writes for information; accepted and ignored so an export re-imports.
EXPORT_ONLY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("card_no", "卡号"),
    ("referral_code", "推荐码"),
    ("source_channel", "来源渠道"),
    ("status", "状态"),
)
MEMBER_COLUMNS = tuple(c.field for c in COLUMNS if c.field not in ("store", "joined_at"))
TEXT_ONLY_FIELDS = {"mobile", "id_number", "name", "email", "region", "address", "occupation"}
TEXT_ONLY_FIELDS |= {"gender", "income_band", "tags", "lunar_birthday"}
CONSENT_FIELDS = {"consent_sms", "consent_wechat", "consent_email"}
DATE_TEXT = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*(.*)$")
TIME_TEXT = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
PLAIN_MOBILE = re.compile(r"^1[3-9]\d{9}$")
SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+\d+$")


def header_key(text: Any) -> str:
    """Compare headers loosely: case, surrounding blanks, spaces vs _ and a required '*'."""
    return re.sub(r"[\s\-]+", "_", str(text).strip().strip("*＊").strip()).lower()


def standard_headers() -> dict[str, str]:
    """Normalised header -> field, for the built-in columns and the ignored export columns."""
    names: dict[str, str] = {}
    for column in COLUMNS:
        for header in (column.zh, column.en, *column.aliases):
            names[header_key(header)] = column.field
    for field_name, zh in EXPORT_ONLY_COLUMNS:
        names[header_key(zh)] = names[header_key(field_name)] = f"ignore:{field_name}"
    return names


STANDARD_HEADERS = standard_headers()


def custom_header(definition: CustomField, definitions: list[CustomField]) -> str:
    """The header the template and export use for a custom field: its label when unambiguous."""
    label = header_key(definition.label)
    shared = sum(header_key(d.label) == label for d in definitions) > 1
    if shared or label in STANDARD_HEADERS:
        return definition.key
    return definition.label


# --- errors ----------------------------------------------------------------------------------


class UnreadableFile(DomainError):
    """The file is not a spreadsheet we can read at all: nothing is imported."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail=detail, code="unreadable_file", status=400)


class BadColumns(DomainError):
    """The header row does not fit: unknown, duplicate or missing required columns."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(
            detail=_("The columns of the file are not right; nothing was imported."),
            code="bad_columns",
            status=422,
            errors=errors,
        )


@dataclass(frozen=True)
class RowError:
    row: int  # as the spreadsheet numbers it: the header is row 1
    column: str  # the header as written in the file
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


# --- reading ---------------------------------------------------------------------------------


def read_bytes(source: str | Path | BinaryIO | Any) -> bytes:
    """All bytes of a path, an open binary file or a Django upload, within the size limit."""
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise UnreadableFile(_("No such file: %s") % path)
        if path.stat().st_size > MAX_FILE_BYTES:
            raise UnreadableFile(too_large_message())
        try:
            data = path.read_bytes()
        except OSError as problem:
            raise UnreadableFile(
                _("Cannot read %(file)s: %(why)s")
                % {"file": path, "why": problem.strerror or problem}
            ) from None
    elif hasattr(source, "chunks"):
        data = b"".join(source.chunks())
    else:
        data = source.read()
    if len(data) > MAX_FILE_BYTES:
        raise UnreadableFile(too_large_message())
    if not data.strip():
        raise UnreadableFile(_("The file is empty."))
    return data


def too_large_message() -> str:
    return _("The file is larger than %d MB: split it into several files.") % (
        MAX_FILE_BYTES // (1024 * 1024)
    )


def file_kind(data: bytes, file_name: str) -> str:
    """'xlsx' or 'csv', judged by the content first: names lie more often than bytes do."""
    suffix = Path(file_name).suffix.lower()
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile(
            _("This is an old Excel 97-2003 (.xls) file: save it as .xlsx or CSV and try again.")
        )
    if suffix in (".xlsx", ".xlsm"):
        raise UnreadableFile(_("%s is not a valid Excel .xlsx file.") % file_name)
    return "csv"


def read_rows(data: bytes, file_name: str) -> Iterator[tuple[Any, ...]]:
    """Every row of the file (header included) as a tuple of raw cell values."""
    if file_kind(data, file_name) == "xlsx":
        return xlsx_rows(data, file_name)
    return csv_rows(decode_text(data), file_name)


def xlsx_rows(data: bytes, file_name: str) -> Iterator[tuple[Any, ...]]:
    """Rows of the data sheet: streamed by `fast_xlsx_rows`, else by openpyxl's reader."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        sheet = locate_sheet(archive)
    except Exception:
        # Parts we did not expect (odd producers): openpyxl copes with more, slowly.
        return openpyxl_rows(data, file_name)
    return fast_xlsx_rows(archive, sheet, file_name)


def openpyxl_rows(data: bytes, file_name: str) -> Iterator[tuple[Any, ...]]:
    # Any failure inside openpyxl means the workbook is damaged or not a workbook at all.
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:
        raise UnreadableFile(_("%s is not a readable Excel workbook.") % file_name) from None
    try:
        sheet = data_sheet(workbook)
        # Some programs write a wrong used range; without this read-only mode trusts it.
        sheet.reset_dimensions()
        try:
            yield from sheet.iter_rows(values_only=True)
        except Exception:
            raise UnreadableFile(_("%s is damaged and cannot be read.") % file_name) from None
    finally:
        workbook.close()


def data_sheet(workbook: Any) -> Any:
    """The first sheet that is not our instructions sheet (users save with any sheet active)."""
    for sheet in workbook.worksheets:
        if sheet.title != INSTRUCTIONS_SHEET_TITLE:
            return sheet
    raise UnreadableFile(_("The workbook has no sheet with members."))


# --- fast xlsx reading -----------------------------------------------------------------------
# openpyxl's read-only mode builds an object per cell: 100,000 members x 15 columns cost 18 s
# (shared strings, as Excel and WPS save) to 46 s (inline strings, as openpyxl itself and many
# exporters write) of CPU on our 2-core box, most of the import's 60 s budget. Cell data is
# plain XML, so it is streamed with expat (about 8 s either way), while the hard parts come from
# openpyxl: which number formats are dates and how serial numbers become dates. A workbook
# whose parts we cannot find goes to openpyxl's reader instead.

MAIN_NAMESPACES = (
    "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "http://purl.oclc.org/ooxml/spreadsheetml/main",  # "Strict Open XML" saves
)
REL_NAMESPACES = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
)
PACKAGE_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
# Built-in date formats, including the Chinese / Japanese ones (27-36, 50-58) that openpyxl
# does not know and Chinese Excel uses for dates like 2024年5月1日.
BUILTIN_DATE_FORMATS = frozenset({*range(14, 23), *range(27, 37), 45, 46, 47, *range(50, 59)})
XML_NAMES = {
    f"{namespace} {local}": local
    for namespace in MAIN_NAMESPACES
    for local in ("row", "c", "v", "t", "is", "rPh", "si")
}


@dataclass(frozen=True)
class SheetParts:
    path: str
    shared_strings: str | None
    styles: str | None
    date1904: bool


def xml_name(element: Any, local: str) -> bool:
    return any(element.tag == f"{{{namespace}}}{local}" for namespace in MAIN_NAMESPACES)


def part_path(target: str) -> str:
    """A relationship target of the workbook -> the path inside the zip."""
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join("xl", target))


def locate_sheet(archive: zipfile.ZipFile) -> SheetParts:
    """Find the data sheet (the first that is not our instructions) and its shared parts."""
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    relations = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets: dict[str, str] = {}
    by_type: dict[str, str] = {}
    for relation in relations.iter(PACKAGE_RELS):
        targets[relation.get("Id", "")] = part_path(relation.get("Target", ""))
        by_type[relation.get("Type", "").rsplit("/", 1)[-1]] = targets[relation.get("Id", "")]
    date1904 = any(
        xml_name(e, "workbookPr") and e.get("date1904", "").lower() in ("1", "true")
        for e in workbook.iter()
    )
    for sheet in workbook.iter():
        if not xml_name(sheet, "sheet") or sheet.get("name") == INSTRUCTIONS_SHEET_TITLE:
            continue
        relation_id = next(
            (sheet.get(f"{{{ns}}}id") for ns in REL_NAMESPACES if sheet.get(f"{{{ns}}}id")), ""
        )
        path = targets[relation_id]
        archive.getinfo(path)  # KeyError when the sheet is missing: let openpyxl judge
        return SheetParts(path, by_type.get("sharedStrings"), by_type.get("styles"), date1904)
    raise UnreadableFile(_("The workbook has no sheet with members."))


def date_style_ids(archive: zipfile.ZipFile, styles_path: str | None) -> set[int]:
    """Indexes of the cell styles whose number format shows a date or a time."""
    if not styles_path or styles_path not in archive.namelist():
        return set()
    styles = ElementTree.fromstring(archive.read(styles_path))
    custom = {
        int(fmt.get("numFmtId", "-1")): fmt.get("formatCode", "")
        for fmt in styles.iter()
        if xml_name(fmt, "numFmt")
    }
    cell_formats = next((e for e in styles if xml_name(e, "cellXfs")), None)
    if cell_formats is None:
        return set()
    dates = set()
    for index, xf in enumerate(e for e in cell_formats if xml_name(e, "xf")):
        number_format = int(xf.get("numFmtId", "0"))
        if number_format in BUILTIN_DATE_FORMATS or (
            number_format in custom and is_date_format(custom[number_format])
        ):
            dates.add(index)
    return dates


def read_shared_strings(archive: zipfile.ZipFile, path: str | None) -> list[str]:
    if not path or path not in archive.namelist():
        return []
    strings: list[str] = []
    parts: list[str] = []
    state = {"text": False, "phonetic": 0}

    def start(name: str, _attributes: dict) -> None:
        local = XML_NAMES.get(name)
        if local == "si":
            parts.clear()
        elif local == "t" and not state["phonetic"]:
            state["text"] = True
        elif local == "rPh":
            state["phonetic"] += 1  # pronunciation guides are not part of the value

    def end(name: str) -> None:
        local = XML_NAMES.get(name)
        if local == "si":
            strings.append("".join(parts))
        elif local == "t":
            state["text"] = False
        elif local == "rPh":
            state["phonetic"] -= 1

    def text(data: str) -> None:
        if state["text"]:
            parts.append(data)

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler = text
    with archive.open(path) as stream:
        parser.ParseFile(stream)
    return strings


def column_number(reference: str) -> int:
    """'C7' -> 2 (zero-based column of a cell reference)."""
    number = 0
    for char in reference:
        if "A" <= char <= "Z":
            number = number * 26 + ord(char) - 64
        else:
            break
    return number - 1


class SheetStream:
    """Expat handlers turning <sheetData> into complete rows, numbered as Excel numbers them."""

    def __init__(self, shared: list[str], date_styles: set[int], epoch: dt.datetime) -> None:
        self.shared, self.date_styles, self.epoch = shared, date_styles, epoch
        self.ready: list[tuple[Any, ...]] = []
        self.cells: list[Any] = []
        self.next_row = 1
        self.kind: str | None = None
        self.style = 0
        self.column = 0
        self.parts: list[str] = []
        self.capturing = False
        self.phonetic = 0

    def start(self, name: str, attributes: dict[str, str]) -> None:
        local = XML_NAMES.get(name)
        if local == "c":
            self.kind = attributes.get("t")
            self.style = int(attributes.get("s", 0))
            reference = attributes.get("r")
            self.column = column_number(reference) if reference else len(self.cells)
            self.parts = []
        elif local == "v" or (local == "t" and not self.phonetic):
            self.capturing = True
        elif local == "row":
            number = int(attributes.get("r", self.next_row))
            # Rows Excel leaves out are empty rows: keep the numbering the user sees.
            self.ready.extend(() for _ in range(self.next_row, number))
            self.next_row = number + 1
            self.cells = []
        elif local == "rPh":
            self.phonetic += 1

    def end(self, name: str) -> None:
        local = XML_NAMES.get(name)
        if local == "c":
            if self.column > len(self.cells):
                self.cells.extend([None] * (self.column - len(self.cells)))
            self.cells.append(self.value("".join(self.parts)))
        elif local in ("v", "t"):
            self.capturing = False
        elif local == "row":
            self.ready.append(tuple(self.cells))
        elif local == "rPh":
            self.phonetic -= 1

    def text(self, data: str) -> None:
        if self.capturing:
            self.parts.append(data)

    def value(self, text: str) -> Any:
        kind = self.kind
        if kind == "s":
            return self.shared[int(text)] if text else None
        if kind in ("inlineStr", "str", "e"):
            return text  # an error such as #N/A is shown to the user as it is
        if kind == "b":
            return text == "1"
        if not text:
            return None
        if kind == "d":
            return parse_iso(text)
        number: int | float = int(text) if text.lstrip("-").isdigit() else float(text)
        if self.style in self.date_styles:
            try:
                return from_excel(number, self.epoch)
            except (OverflowError, ValueError):
                return number  # a "date" out of range: the row's validation will say so
        return number


def parse_iso(text: str) -> dt.datetime | str:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        return text


def fast_xlsx_rows(
    archive: zipfile.ZipFile, sheet: SheetParts, file_name: str
) -> Iterator[tuple[Any, ...]]:
    try:
        stream = SheetStream(
            read_shared_strings(archive, sheet.shared_strings),
            date_style_ids(archive, sheet.styles),
            MAC_EPOCH if sheet.date1904 else WINDOWS_EPOCH,
        )
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.buffer_text = True
        parser.StartElementHandler, parser.EndElementHandler = stream.start, stream.end
        parser.CharacterDataHandler = stream.text
        with archive.open(sheet.path) as source:
            while chunk := source.read(256 * 1024):
                parser.Parse(chunk, False)
                yield from stream.ready
                stream.ready.clear()
            parser.Parse(b"", True)
            yield from stream.ready
    except (expat.ExpatError, zipfile.BadZipFile, KeyError, ValueError, IndexError, OSError):
        raise UnreadableFile(_("%s is damaged and cannot be read.") % file_name) from None


def decode_text(data: bytes) -> str:
    """CSV text in UTF-8 (with or without BOM), UTF-16 (Excel's 'Unicode text') or GB18030.

    Chinese Excel saves 'CSV (comma delimited)' in GBK, which GB18030 contains.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise UnreadableFile(_("The file is not valid UTF-16 text.")) from None
    if b"\x00" in data:
        raise UnreadableFile(_("This is not a spreadsheet: upload an .xlsx or .csv file."))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(
        _("This is not a spreadsheet: upload an .xlsx file, or a CSV file in UTF-8 or GBK.")
    )


def csv_rows(text: str, file_name: str) -> Iterator[tuple[Any, ...]]:
    first_line = text.split("\n", 1)[0]
    # Excel's "Unicode text" is tab separated; everything else we see is comma separated.
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    try:
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            yield tuple(record)
    except csv.Error as problem:
        raise UnreadableFile(
            _("%(file)s is not a valid CSV file: %(why)s") % {"file": file_name, "why": problem}
        ) from None


def is_blank(cells: Iterable[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in cells)


def split_header(rows: Iterator[tuple[Any, ...]]) -> tuple[int, list[str]]:
    """Skip leading blank rows; the first row with content is the header."""
    for number, cells in enumerate(rows, start=1):
        if not is_blank(cells):
            return number, ["" if v is None else str(v).strip() for v in cells]
    raise UnreadableFile(_("The file has no header row."))


# --- columns of one file ---------------------------------------------------------------------


@dataclass
class ColumnPlan:
    """Where each wanted value sits in a row of this particular file."""

    headers: list[str]
    mobile: int
    fields: list[tuple[int, str]]  # (cell index, member field)
    custom: list[tuple[int, CustomField]]
    store: int | None
    joined_at: int | None
    header_of: dict[str, str]  # error field name ("birthday", "custom.size") -> header

    def column(self, error_field: str) -> str:
        return self.header_of.get(error_field, error_field)


def custom_headers(definitions: list[CustomField]) -> dict[str, CustomField]:
    """Normalised key and (unambiguous) label -> custom field."""
    by_header = {header_key(d.key): d for d in definitions}
    labels: dict[str, list[CustomField]] = {}
    for definition in definitions:
        labels.setdefault(header_key(definition.label), []).append(definition)
    for label, found in labels.items():
        if len(found) == 1:
            by_header.setdefault(label, found[0])
    return by_header


def plan_columns(headers: list[str], definitions: list[CustomField]) -> ColumnPlan:
    """Map the header row to fields, or raise BadColumns listing every problem at once."""
    customs = custom_headers(definitions)
    errors: list[FieldError] = []
    taken: dict[str, str] = {}
    plan = ColumnPlan(headers, -1, [], [], None, None, {})
    for index, header in enumerate(headers):
        if not header:
            continue  # unnamed columns (often just formatting) carry nothing we could import
        key = header_key(header)
        target = STANDARD_HEADERS.get(key)
        definition = customs.get(key) if target is None else None
        if target is None and definition is None:
            errors.append(FieldError(header, _("Unknown column.")))
            continue
        if target is not None and target.startswith("ignore:"):
            continue
        name = target or f"custom.{definition.key}"
        if name in taken:
            errors.append(FieldError(header, _("Same column as %s.") % taken[name]))
            continue
        taken[name] = header
        plan.header_of[name] = header
        if definition is not None:
            plan.custom.append((index, definition))
        elif name == "mobile":
            plan.mobile = index
        elif name == "store":
            plan.store = index
        elif name == "joined_at":
            plan.joined_at = index
        else:
            plan.fields.append((index, name))
    if plan.mobile < 0:
        errors.append(FieldError("手机号 / mobile", _("This column is required.")))
    for definition in definitions:
        if definition.required and f"custom.{definition.key}" not in taken:
            errors.append(
                FieldError(custom_header(definition, definitions), _("This column is required."))
            )
    if errors:
        raise BadColumns(errors)
    return plan


# --- cell values -----------------------------------------------------------------------------


def cell(cells: tuple[Any, ...], index: int) -> Any:
    """The cell's value with blanks as None and whole-number floats as int (Excel's numbers)."""
    if index >= len(cells):
        return None
    value = cells[index]
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def as_text(value: Any) -> Any:
    """Numbers typed into a text column (mobiles, ID numbers, sizes) become their digits."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def date_text(text: str) -> str:
    """'1990/1/2', '1990.1.2', '1990年1月2日' -> '1990-01-02'; a midnight time is dropped."""
    if len(text) in (10, 16, 19) and text[4] == "-" and text[7] == "-" and text[5:7].isdigit():
        return text  # already ISO, as most files have it: skip the regex
    match = DATE_TEXT.match(text)
    if not match:
        return text
    year, month, day, rest = match.groups()
    iso = f"{year}-{int(month):02d}-{int(day):02d}"
    if not rest:
        return iso
    clock = TIME_TEXT.match(rest)
    if clock is None:
        return f"{iso} {rest}"
    hour, minute, second = (int(part or 0) for part in clock.groups())
    return f"{iso} {hour:02d}:{minute:02d}:{second:02d}"


def strip_midnight(text: str) -> str:
    return text[:-9] if text.endswith(" 00:00:00") else text


def coerce_member_value(name: str, value: Any) -> Any:
    """Shape a cell for the shared validators, which expect API-like values."""
    if name == "birthday":
        if isinstance(value, int):
            value = str(value)
        return strip_midnight(date_text(value)) if isinstance(value, str) else value
    if name == "lunar_birthday" and isinstance(value, dt.date):
        return f"{value.month:02d}-{value.day:02d}"  # Excel turned "08-15" into a date
    if name in TEXT_ONLY_FIELDS:
        return as_text(value)
    return value


def coerce_custom_value(definition: CustomField, value: Any) -> Any:
    if definition.kind in (CustomField.Kind.TEXT, CustomField.Kind.CHOICE):
        return as_text(value)
    if definition.kind == CustomField.Kind.DATE and isinstance(value, str):
        return strip_midnight(date_text(value))
    return value


def clean_joined_at(value: Any, zone: zoneinfo.ZoneInfo, now: dt.datetime) -> dt.datetime:
    """A join date or time in the merchant's zone; never in the future, never before 1900."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    else:
        try:
            moment = dt.datetime.fromisoformat(date_text(str(as_text(value))))
        except ValueError:
            raise Invalid(_("Enter a date as YYYY-MM-DD or a time as YYYY-MM-DD HH:MM.")) from None
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=zone)
    if moment.year < 1900:
        raise Invalid(_("The date is too far in the past."))
    if moment > now:
        raise Invalid(_("The date cannot be in the future."))
    return moment


# --- checking rows ---------------------------------------------------------------------------


@dataclass
class ImportContext:
    """What checking needs from the database, loaded once per file (never once per row)."""

    merchant: Merchant
    definitions: list[CustomField]
    stores: dict[str, Store]  # code, lower-case code and unambiguous name -> store
    bound_store: Store | None  # store-bound staff import into their own store only
    default_store: Store | None
    existing_mobiles: set[str]
    zone: zoneinfo.ZoneInfo
    now: dt.datetime
    assigned_blocks: set[str] = field(default_factory=set)  # see checked_mobile


@dataclass
class CheckedRows:
    rows_read: int = 0
    skipped_existing: int = 0
    rejected: int = 0
    valid: list[dict[str, Any]] = field(default_factory=list)  # ready for bulk_register
    valid_rows: list[int] = field(default_factory=list)  # their row numbers, same order
    errors: list[RowError] = field(default_factory=list)


def store_index(merchant: Merchant) -> dict[str, Store]:
    stores = list(Store.objects.filter(merchant=merchant, is_active=True))
    index: dict[str, Store] = {}
    names: dict[str, list[Store]] = {}
    for store in stores:
        names.setdefault(store.name.strip(), []).append(store)
    for name, found in names.items():
        if len(found) == 1:
            index[name] = found[0]
    for store in stores:
        index[store.code.lower()] = store
    for store in stores:
        index[store.code] = store  # an exact code always wins over a name or another case
    return index


def find_store(stores: dict[str, Store], raw: Any) -> Store | None:
    key = str(as_text(raw)).strip()
    return stores.get(key) or stores.get(key.lower())


def build_context(actor: Actor, default_store: Store | str | None) -> ImportContext:
    merchant = actor.merchant
    stores = store_index(merchant)
    bound = actor.store_bound
    chosen: Store | None = None
    if isinstance(default_store, Store):
        chosen = stores.get(default_store.code)
        if chosen is None or chosen.pk != default_store.pk:
            raise_store_problem(_("Unknown store."))
    elif default_store:
        chosen = find_store(stores, default_store)
        if chosen is None:
            raise_store_problem(_("Unknown store: %s") % default_store)
    if bound is not None:
        if chosen is not None and chosen.pk != bound.pk:
            raise PermissionDenied(_("You can only import members into your own store."))
        chosen = bound
    return ImportContext(
        merchant=merchant,
        definitions=custom_field_definitions(merchant),
        stores=stores,
        bound_store=bound,
        default_store=chosen,
        existing_mobiles=existing_mobiles(merchant),
        zone=zoneinfo.ZoneInfo(merchant.timezone),
        now=timezone.now(),
    )


def raise_store_problem(message: str) -> NoReturn:
    raise ValidationFailed([FieldError("store", message)])


def existing_mobiles(merchant: Merchant) -> set[str]:
    return set(Member.objects.filter(merchant=merchant).values_list("mobile", flat=True))


def checked_mobile(raw: Any, assigned_blocks: set[str]) -> str:
    """`normalize_mobile`, remembering the 7-digit blocks (号段 + HLR code) found assigned.

    Mainland mobiles are allocated in blocks of 10,000 and phonenumbers judges a number by
    a prefix of at most 5 digits plus its length, so every plain 11-digit number in a block
    already seen valid is valid too. That spares ~70 µs of phonenumbers on nearly every row.
    """
    if isinstance(raw, str) and PLAIN_MOBILE.match(raw) and raw[:7] in assigned_blocks:
        return raw
    mobile = normalize_mobile(raw)
    assigned_blocks.add(mobile[:7])
    return mobile


def check_rows(
    rows: Iterator[tuple[Any, ...]], first_row: int, plan: ColumnPlan, ctx: ImportContext
) -> CheckedRows:
    """Clean every data row; a row with any problem is rejected whole, with every problem."""
    result = CheckedRows()
    first_seen: dict[str, int] = {}
    for number, cells in enumerate(rows, start=first_row):
        if is_blank(cells):
            continue
        result.rows_read += 1
        if result.rows_read > MAX_ROWS:
            raise UnreadableFile(_("More than %d rows: split the file.") % MAX_ROWS)
        outcome, cleaned, errors = check_row(number, cells, plan, ctx, first_seen)
        if outcome == "existing":
            result.skipped_existing += 1
        elif errors:
            result.rejected += 1
            result.errors.extend(errors)
        else:
            result.valid.append(cleaned)
            result.valid_rows.append(number)
    return result


def check_row(
    number: int,
    cells: tuple[Any, ...],
    plan: ColumnPlan,
    ctx: ImportContext,
    first_seen: dict[str, int],
) -> tuple[str, dict[str, Any], list[RowError]]:
    """('existing' | 'checked', cleaned row, errors) for one data row."""
    errors: list[RowError] = []

    def problem(error_field: str, message: str) -> None:
        errors.append(RowError(number, plan.column(error_field), message))

    raw_mobile = cell(cells, plan.mobile)
    mobile = None
    if raw_mobile is None:
        problem("mobile", _("This field is required."))
    else:
        try:
            mobile = checked_mobile(as_text(raw_mobile), ctx.assigned_blocks)
        except Invalid as invalid:
            problem("mobile", str(invalid))
    if mobile is not None:
        if mobile in ctx.existing_mobiles:
            # Skipped whatever else the row holds: re-running a file that was imported before
            # must neither change those members nor report their rows again.
            return "existing", {}, []
        first = first_seen.setdefault(mobile, number)
        if first != number:
            problem("mobile", _("The same mobile is already on row %d.") % first)

    raw: dict[str, Any] = {}
    numeric: set[str] = set()
    for index, name in plan.fields:
        value = cell(cells, index)
        if value is not None:
            if isinstance(value, int | float):
                numeric.add(name)
            raw[name] = coerce_member_value(name, value)
    # Only the cells present are cleaned, so empty cells keep the model's defaults.
    fields, field_errors = clean_member_fields(raw, partial=True)
    for error in field_errors:
        message = error.message
        if error.field == "id_number" and (
            "id_number" in numeric or SCIENTIFIC.match(str(raw["id_number"]))
        ):
            message = f"{message} {_('Excel stored it as a number: format the column as text.')}"
        problem(error.field, message)

    custom_raw = {}
    for index, definition in plan.custom:
        value = cell(cells, index)
        if value is not None:
            custom_raw[definition.key] = coerce_custom_value(definition, value)
    custom, custom_errors = clean_custom(ctx.definitions, custom_raw, partial=False)
    for error in custom_errors:
        problem(error.field, error.message)

    store = ctx.default_store
    if plan.store is not None and (raw_store := cell(cells, plan.store)) is not None:
        store = find_store(ctx.stores, raw_store)
        if store is None:
            problem("store", _("Unknown store: %s") % as_text(raw_store))
        elif ctx.bound_store is not None and store.pk != ctx.bound_store.pk:
            problem("store", _("You can only import members into your own store."))

    joined_at = None
    if plan.joined_at is not None and (raw_joined := cell(cells, plan.joined_at)) is not None:
        try:
            joined_at = clean_joined_at(raw_joined, ctx.zone, ctx.now)
        except Invalid as invalid:
            problem("joined_at", str(invalid))

    if errors:
        return "checked", {}, errors
    fields["mobile"] = mobile
    fields["store"] = store
    fields["custom"] = custom
    if joined_at is not None:
        fields["joined_at"] = joined_at
    return "checked", fields, []


def preview_row(number: int, row: dict[str, Any]) -> dict[str, Any]:
    """A valid row as the console preview shows it: the mobile masked (F-45)."""
    store = row.get("store")
    birthday = row.get("birthday")
    return {
        "row": number,
        "mobile": mask_mobile(row["mobile"]),
        "name": row.get("name", ""),
        "gender": str(Gender(row.get("gender", Gender.UNKNOWN)).label),
        "birthday": birthday.isoformat() if birthday else "",
        "store": store.code if store else "",
        "tags": ", ".join(row.get("tags", [])),
    }


# --- the service -----------------------------------------------------------------------------


@dataclass
class ImportResult:
    batch: ImportBatch
    dry_run: bool
    rows_read: int
    imported: int
    skipped_existing: int
    rejected: int
    errors: list[RowError]  # every error, in row order (the batch keeps the first 10,000)
    preview: list[dict[str, Any]]
    seconds: dict[str, float]  # read+check / write / total, for the benchmark and the logs


def may_import(actor: Actor) -> bool:
    """HQ admins and store managers import; the CLI and API act for the merchant itself."""
    return actor.staff is None or actor.role in IMPORT_ROLES


def import_members(
    actor: Actor,
    path_or_file: str | Path | BinaryIO | Any,
    *,
    file_name: str,
    dry_run: bool,
    default_store: Store | str | None = None,
    stored_file: str = "",
    source: ImportBatch | None = None,
) -> ImportResult:
    """Check a members file and, unless `dry_run`, import its good rows in one transaction.

    Raises UnreadableFile or BadColumns (nothing imported, nothing recorded) when the file as a
    whole cannot be used; problems in single rows are reported in the result instead.
    """
    if not may_import(actor):
        raise PermissionDenied(_("Only HQ admins and store managers may import members."))
    started = time.perf_counter()
    data = read_bytes(path_or_file)
    rows = read_rows(data, file_name)
    header_row, headers = split_header(rows)
    ctx = build_context(actor, default_store)
    plan = plan_columns(headers, ctx.definitions)
    checked = check_rows(rows, header_row + 1, plan, ctx)
    checked_at = time.perf_counter()
    preview = [
        preview_row(number, row)
        for number, row in zip(checked.valid_rows[:PREVIEW_ROWS], checked.valid, strict=False)
    ]
    common = {
        "actor": actor,
        "file_name": file_name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "default_store": ctx.default_store,
        "checked": checked,
        "preview": preview,
        "stored_file": stored_file,
        "source": source,
    }
    if dry_run:
        imported = len(checked.valid)
        batch = record_batch(**common, dry_run=True, imported=imported, started=started)
    else:
        with transaction.atomic():
            imported = insert_members(actor, checked)
            batch = record_batch(**common, dry_run=False, imported=imported, started=started)
            audit(actor, AuditEntry.Action.IMPORT, batch, batch_summary(batch), label=file_name)
    finished = time.perf_counter()
    return ImportResult(
        batch=batch,
        dry_run=dry_run,
        rows_read=checked.rows_read,
        imported=imported,
        skipped_existing=batch.skipped_existing,
        rejected=checked.rejected,
        errors=checked.errors,
        preview=preview,
        seconds={
            "check": checked_at - started,
            "write": finished - checked_at,
            "total": finished - started,
        },
    )


def insert_members(actor: Actor, checked: CheckedRows) -> int:
    """Insert the valid rows; the caller holds the transaction. Returns how many were new.

    Checking ran outside the transaction (so a big file does not hold SQLite's write lock
    while it is parsed); members registered meanwhile are skipped here, not duplicated.
    """
    taken = existing_mobiles(actor.merchant)
    fresh = [row for row in checked.valid if row["mobile"] not in taken]
    checked.skipped_existing += len(checked.valid) - len(fresh)
    for attempt in range(1, INSERT_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                for start in range(0, len(fresh), INSERT_CHUNK):
                    bulk_register(
                        actor, fresh[start : start + INSERT_CHUNK], channel=Channel.IMPORT
                    )
            return len(fresh)
        except IntegrityError:
            # Either a mobile was registered on a till after our re-check (PostgreSQL allows
            # it), or a fresh random referral code met an existing one: only the latter heals.
            raced = existing_mobiles(actor.merchant) & {row["mobile"] for row in fresh}
            if raced or attempt == INSERT_ATTEMPTS:
                raise Conflict(
                    _("Members were registered while the file was being imported; run it again."),
                    "import_conflict",
                ) from None
    return 0  # unreachable: the loop returns or raises


def record_batch(
    *,
    actor: Actor,
    file_name: str,
    sha256: str,
    default_store: Store | None,
    checked: CheckedRows,
    preview: list[dict[str, Any]],
    stored_file: str,
    source: ImportBatch | None,
    dry_run: bool,
    imported: int,
    started: float,
) -> ImportBatch:
    return ImportBatch.objects.create(
        merchant=actor.merchant,
        file_name=file_name[:255],
        sha256=sha256,
        dry_run=dry_run,
        channel=actor.channel,
        default_store=default_store,
        rows_read=checked.rows_read,
        imported=imported,
        skipped_existing=checked.skipped_existing,
        rejected=checked.rejected,
        error_count=len(checked.errors),
        errors=[e.as_dict() for e in checked.errors[:MAX_STORED_ERRORS]],
        preview=preview,
        stored_file=stored_file,
        source=source,
        duration_ms=int((time.perf_counter() - started) * 1000),
        created_by=actor.user,
    )


def batch_summary(batch: ImportBatch) -> dict[str, list[Any]]:
    """The audit entry's changes, in the log's usual {field: [before, after]} shape."""
    return {
        name: [None, getattr(batch, name)]
        for name in ("file_name", "sha256", "rows_read", "imported", "skipped_existing", "rejected")
    }


# --- error report ----------------------------------------------------------------------------


def report_rows(errors: Iterable[RowError | dict[str, Any]]) -> Iterator[list[Any]]:
    for error in errors:
        item = error.as_dict() if isinstance(error, RowError) else error
        yield [item["row"], item["column"], item["message"]]


def write_report_csv(errors: Iterable[RowError | dict[str, Any]], stream: Any) -> None:
    """CSV for people: the caller opens the file as UTF-8 with BOM so Excel shows Chinese."""
    writer = csv.writer(stream)
    writer.writerow(REPORT_HEADERS)
    writer.writerows(report_rows(errors))


def write_report_xlsx(errors: Iterable[RowError | dict[str, Any]], target: Any) -> None:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("错误 Errors")
    sheet.append(list(REPORT_HEADERS))
    for row in report_rows(errors):
        sheet.append(row)
    workbook.save(target)


def write_report(errors: Iterable[RowError | dict[str, Any]], path: Path) -> None:
    if path.suffix.lower() == ".xlsx":
        write_report_xlsx(errors, path)
        return
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        write_report_csv(errors, stream)


# --- template --------------------------------------------------------------------------------

HEADER_FONT = Font(bold=True)
REQUIRED_FILL = PatternFill("solid", fgColor="FFF2CC")
TEMPLATE_ROWS = 100_000  # how far the drop-down lists reach
# The template explains itself in Chinese and English whatever the operator's language.
CUSTOM_KIND_ZH = {"text": "文本", "number": "数字", "choice": "选项", "date": "日期 YYYY-MM-DD"}


@dataclass(frozen=True)
class TemplateColumn:
    header: str
    en: str
    required: bool
    help_zh: str
    help_en: str
    example: str
    choices: tuple[str, ...]
    text_format: bool  # formatted as text so Excel keeps leading zeros and all 18 ID digits


def template_columns(merchant: Merchant) -> list[TemplateColumn]:
    definitions = custom_field_definitions(merchant)
    store_codes = tuple(
        Store.objects.filter(merchant=merchant, is_active=True).values_list("code", flat=True)
    )
    columns = [
        TemplateColumn(
            header=c.zh,
            en=c.en,
            required=c.field == "mobile",
            help_zh=c.help_zh,
            help_en=c.help_en,
            example=c.example,
            choices=store_codes if c.field == "store" else c.choices,
            text_format=c.field in ("mobile", "id_number", "store", "lunar_birthday"),
        )
        for c in COLUMNS
    ]
    for definition in definitions:
        columns.append(
            TemplateColumn(
                header=custom_header(definition, definitions),
                en=definition.key,
                required=definition.required,
                help_zh=f"自定义字段（{CUSTOM_KIND_ZH.get(definition.kind, definition.kind)}）",
                help_en=f"Custom field ({definition.kind})",
                example=(definition.choices or [""])[0]
                if definition.kind == CustomField.Kind.CHOICE
                else "",
                choices=tuple(definition.choices)
                if definition.kind == CustomField.Kind.CHOICE
                else (),
                text_format=definition.kind in (CustomField.Kind.TEXT, CustomField.Kind.CHOICE),
            )
        )
    return columns


def build_template(merchant: Merchant) -> bytes:
    """An .xlsx with one header row to fill in, and a second sheet explaining each column.

    The data sheet holds headers only, so the file re-imports cleanly as it is.
    """
    columns = template_columns(merchant)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = DATA_SHEET_TITLE
    sheet.append([c.header for c in columns])
    sheet.freeze_panes = "A2"
    for number, column in enumerate(columns, start=1):
        letter = get_column_letter(number)
        header = sheet.cell(row=1, column=number)
        header.font = HEADER_FONT
        if column.required:
            header.fill = REQUIRED_FILL
        header.comment = Comment(f"{column.en}\n{column.help_zh}\n{column.help_en}", "Patron")
        sheet.column_dimensions[letter].width = max(12, len(column.header) * 2 + 4)
        if column.text_format:
            sheet.column_dimensions[letter].number_format = "@"
        add_choice_list(sheet, letter, column.choices)
    add_instructions(workbook, columns)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def add_choice_list(sheet: Any, letter: str, choices: tuple[str, ...]) -> None:
    formula = '"' + ",".join(choices) + '"'
    # Excel refuses inline lists longer than 255 characters or containing commas or quotes.
    if not choices or len(formula) > 255 or any("," in c or '"' in c for c in choices):
        return
    validation = DataValidation(type="list", formula1=formula, allow_blank=True)
    validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS}")
    sheet.add_data_validation(validation)


def add_instructions(workbook: Any, columns: list[TemplateColumn]) -> None:
    sheet = workbook.create_sheet(INSTRUCTIONS_SHEET_TITLE)
    sheet.append(["列名", "Column", "必填 Required", "说明", "Description", "示例 Example"])
    for cell_ in sheet[1]:
        cell_.font = HEADER_FONT
    for column in columns:
        sheet.append(
            [
                column.header,
                column.en,
                "是 yes" if column.required else "",
                column.help_zh,
                column.help_en,
                column.example,
            ]
        )
    sheet.append([])
    for line in (
        "第一行是列名：可以删掉不用的列，也可以用英文列名；从第二行起每行一位会员。",
        "Row 1 holds the column names (Chinese or English; unused columns may be deleted); "
        "one member per row from row 2.",
        "有错误的行不会导入，导入后可下载错误报告；已是会员的手机号会跳过，重复导入是安全的。",
        "Rows with errors are not imported and are listed in the error report; mobiles that "
        "are already members are skipped, so importing a file twice is safe.",
    ):
        sheet.append([line])
    for letter, width in zip("ABCDEF", (14, 16, 12, 48, 48, 22), strict=True):
        sheet.column_dimensions[letter].width = width


# --- console uploads -------------------------------------------------------------------------
# The console previews an upload as a dry run, keeps the file, and imports exactly that file
# (checked by its SHA-256) when the operator confirms. The file holds personal data, so it is
# deleted as soon as it has been imported.


def upload_dir() -> Path:
    return Path(settings.DATA_DIR) / "imports"


def stored_path(batch: ImportBatch) -> Path:
    return upload_dir() / batch.stored_file


def save_upload(actor: Actor, upload: Any) -> str:
    """Save an uploaded file under DATA_DIR/imports/<merchant>/; returns its relative path."""
    if upload.size > MAX_FILE_BYTES:
        raise UnreadableFile(too_large_message())
    suffix = Path(upload.name or "").suffix.lower()
    # The stored name is ours: an uploaded name must never choose where a file is written.
    relative = (
        f"{actor.merchant.pk}/{uuid.uuid4().hex}{suffix if suffix in UPLOAD_SUFFIXES else ''}"
    )
    path = upload_dir() / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as stream:
        for chunk in upload.chunks():
            stream.write(chunk)
    return relative


UPLOAD_SUFFIXES = (".xlsx", ".xlsm", ".csv", ".txt", ".tsv")
# How long a previewed upload waits for its confirmation before it is deleted.
UPLOAD_KEPT_FOR = dt.timedelta(hours=24)


def purge_stale_uploads(now: dt.datetime | None = None) -> int:
    """Delete console uploads previewed but not confirmed within UPLOAD_KEPT_FOR; how many.

    They hold members' mobiles and names. Each file is claimed the way `confirm_import`
    claims it (clearing `stored_file` where it still names the file), so a confirmation
    racing the purge either imports the file or finds it gone, never half of each.
    """
    cutoff = (now or timezone.now()) - UPLOAD_KEPT_FOR
    stale = (
        ImportBatch.objects.filter(dry_run=True, created_at__lt=cutoff)
        .exclude(stored_file="")
        .values_list("pk", "stored_file")
    )
    purged = 0
    for batch_id, relative in list(stale):
        if ImportBatch.objects.filter(pk=batch_id, stored_file=relative).update(stored_file=""):
            (upload_dir() / relative).unlink(missing_ok=True)
            purged += 1
    return purged


def preview_upload(actor: Actor, upload: Any, default_store: Store | None) -> ImportResult:
    """Save the upload and dry-run it; a file that cannot be used at all is not kept."""
    if not may_import(actor):
        raise PermissionDenied(_("Only HQ admins and store managers may import members."))
    relative = save_upload(actor, upload)
    try:
        return import_members(
            actor,
            upload_dir() / relative,
            file_name=Path(upload.name or "upload").name,
            dry_run=True,
            default_store=default_store,
            stored_file=relative,
        )
    except BaseException:
        (upload_dir() / relative).unlink(missing_ok=True)
        raise


def confirm_import(actor: Actor, preview: ImportBatch) -> ImportBatch:
    """Import the file a dry run checked; confirming twice returns the first import."""
    done = preview.confirmations.order_by("id").first()
    if done is not None:
        return done
    if not preview.dry_run:
        raise Conflict(_("This import has already run."), "import_done")
    relative = preview.stored_file
    # Claim the file atomically so a double-clicked confirm cannot import it twice at once.
    claimed = bool(relative) and ImportBatch.objects.filter(
        pk=preview.pk, stored_file=relative
    ).update(stored_file="")
    if not claimed:
        raise Conflict(
            _("This file is being imported or is no longer available: upload it again."),
            "import_unavailable",
        )
    path = upload_dir() / relative
    try:
        if not path.is_file() or file_sha256(path) != preview.sha256:
            raise Conflict(
                _("The uploaded file is no longer the one checked: upload it again."),
                "import_unavailable",
            )
        result = import_members(
            actor,
            path,
            file_name=preview.file_name,
            dry_run=False,
            default_store=preview.default_store,
            source=preview,
        )
    except BaseException:
        # Give the file back, so the operator can confirm again after a passing problem.
        ImportBatch.objects.filter(pk=preview.pk).update(stored_file=relative)
        raise
    path.unlink(missing_ok=True)
    return result.batch


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def batches_for(actor: Actor) -> QuerySet[ImportBatch]:
    """Imports the actor may look at: HQ sees the merchant's, a store manager their own."""
    batches = ImportBatch.objects.filter(merchant=actor.merchant).select_related(
        "default_store", "created_by"
    )
    if actor.store_bound is not None:
        batches = batches.filter(created_by=actor.user)
    return batches


def batch_for(actor: Actor, batch_id: Any) -> ImportBatch:
    batch = batches_for(actor).filter(pk=batch_id).first()
    if batch is None:
        raise NotFound(_("Import not found."))
    return batch
