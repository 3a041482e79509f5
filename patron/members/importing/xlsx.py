"""Rows of an .xlsx workbook's data sheet, as raw cell values with Excel's dates as datetimes.

openpyxl's read-only mode builds an object per cell, which alone would spend most of the
import's time budget on a large file (figures in docs/members-import.md). Cell data is plain
XML, so `fast_xlsx_rows` streams it with expat, while the hard parts come from openpyxl: which
number formats are dates and how serial numbers become dates. A workbook whose parts we cannot
find goes to openpyxl's reader instead.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO
from xml.etree import ElementTree
from xml.parsers import expat

import openpyxl
from django.utils.translation import gettext as _
from openpyxl.styles.numbers import is_date_format
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel

from patron.core.text import ascii_digits
from patron.members.importing.errors import UnreadableFile

# The template's second sheet explains the columns; the data is on any other sheet.
INSTRUCTIONS_SHEET_TITLE = "说明 Instructions"
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


@dataclass
class SheetRows:
    """The data sheet's rows as they stream, and how many of its bytes were parsed so far."""

    rows: Iterator[tuple[Any, ...]]
    total: int = 0  # the sheet's uncompressed size; 0 when unknown (openpyxl's reader)
    parsed: list[int] = field(default_factory=lambda: [0])

    def position(self) -> int:
        return self.parsed[0]


def xlsx_rows(stream: BinaryIO, file_name: str) -> SheetRows:
    """Rows of the data sheet: streamed by `fast_xlsx_rows`, else by openpyxl's reader."""
    try:
        archive = zipfile.ZipFile(stream)
        sheet = locate_sheet(archive)
        total = archive.getinfo(sheet.path).file_size
    except Exception:
        # Parts we did not expect (odd producers): openpyxl copes with more, slowly.
        stream.seek(0)
        return SheetRows(openpyxl_rows(stream, file_name))
    found = SheetRows(iter(()), total)
    found.rows = fast_xlsx_rows(archive, sheet, file_name, found.parsed)
    return found


def openpyxl_rows(stream: BinaryIO, file_name: str) -> Iterator[tuple[Any, ...]]:
    # Any failure inside openpyxl means the workbook is damaged or not a workbook at all.
    try:
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
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
        # Spreadsheets write numbers in ASCII; int() and float() would also read "١٢" (and
        # isdigit() passes "²", which int() refuses): anything else is a damaged file.
        if not text.isascii():
            raise ValueError(text)
        integral = ascii_digits(text.removeprefix("-"), fullwidth=False) is not None
        number: int | float = int(text) if integral else float(text)
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
    archive: zipfile.ZipFile, sheet: SheetParts, file_name: str, parsed: list[int]
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
                parsed[0] += len(chunk)
                yield from stream.ready
                stream.ready.clear()
            parser.Parse(b"", True)
            yield from stream.ready
    except (expat.ExpatError, zipfile.BadZipFile, KeyError, ValueError, IndexError, OSError):
        raise UnreadableFile(_("%s is damaged and cannot be read.") % file_name) from None
