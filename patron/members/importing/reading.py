"""A members file's bytes -> its rows: size limit, xlsx or CSV, text encodings, the header row.

Merchants bring files from Excel, WPS and their old systems, so the kind is judged by the
content rather than the name, and CSV text may be UTF-8, UTF-16 or GBK. Reading writes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from django.utils.translation import gettext as _

from patron.members.importing.errors import UnreadableFile
from patron.members.importing.xlsx import xlsx_rows

MAX_FILE_BYTES = 64 * 1024 * 1024


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
