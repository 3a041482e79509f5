"""A members file -> a stream of its rows: xlsx or CSV, text encodings, the header row.

Merchants bring files from Excel, WPS and their old systems, so the kind is judged by the
content rather than the name, and CSV text may be UTF-8, UTF-16 or GBK. A file is never held in
memory: the kind and the encoding are judged on its first bytes, then CSV text is decoded as it
is read and a workbook's sheet streams out of the zip (constant memory whatever the size; the
console keeps a limit on uploads, `MAX_UPLOAD_BYTES`). Reading writes nothing.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import io
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from django.utils.translation import gettext as _

from patron.members.importing.errors import UnreadableFile
from patron.members.importing.xlsx import xlsx_rows

MAX_UPLOAD_BYTES = 64 * 1024 * 1024  # console uploads only: the CLI streams any size
SNIFF_BYTES = 1024 * 1024  # the encoding is judged on this much of the text
READ_BLOCK = 1024 * 1024


@dataclass
class OpenedFile:
    """A readable members file: its rows as they stream, and how far reading has got."""

    kind: str  # "xlsx" or "csv"
    rows: Iterator[tuple[Any, ...]]
    total: int  # bytes to read (progress is `position() / total`)
    position: Callable[[], int]
    digest: Callable[[], str]  # SHA-256 of the whole file, complete once `rows` is exhausted


class HashingReader(io.RawIOBase):
    """A binary stream that hashes and counts what passes through it (CSV's one pass)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.sha256 = hashlib.sha256()
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.stream.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.sha256.update(data)
        self.count += size
        return size


@contextlib.contextmanager
def open_source(source: str | Path | BinaryIO | Any) -> Iterator[BinaryIO]:
    """A seekable binary stream of a path, an open binary file or a Django upload."""
    if isinstance(source, str | Path):
        path = Path(source)
        if not path.is_file():
            raise UnreadableFile(_("No such file: %s") % path)
        try:
            stream = path.open("rb")
        except OSError as problem:
            raise UnreadableFile(
                _("Cannot read %(file)s: %(why)s")
                % {"file": path, "why": problem.strerror or problem}
            ) from None
        with stream:
            yield stream
        return
    stream = getattr(source, "file", source)  # a Django upload wraps the real file
    if hasattr(stream, "seekable") and stream.seekable():
        stream.seek(0)
        yield stream
        return
    # A pipe or a socket: spool it (to disk past a few MB) so that it can be read twice.
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spooled:
        if hasattr(source, "chunks"):
            for chunk in source.chunks():
                spooled.write(chunk)
        else:
            shutil.copyfileobj(stream, spooled, READ_BLOCK)
        spooled.seek(0)
        yield spooled  # type: ignore[misc]


def stream_size(stream: BinaryIO) -> int:
    try:
        return os.fstat(stream.fileno()).st_size
    except (OSError, AttributeError, io.UnsupportedOperation):
        here = stream.tell()
        size = stream.seek(0, io.SEEK_END)
        stream.seek(here)
        return size


def open_rows(stream: BinaryIO, file_name: str) -> OpenedFile:
    """The rows of a seekable binary stream, judged by its first bytes."""
    head = stream.read(SNIFF_BYTES)
    stream.seek(0)
    if not head.strip():
        raise UnreadableFile(_("The file is empty."))
    total = stream_size(stream)
    if file_kind(head, file_name) == "xlsx":
        return open_xlsx(stream, file_name, total)
    encoding = sniff_encoding(head)
    reader = HashingReader(stream)
    text = io.TextIOWrapper(io.BufferedReader(reader, READ_BLOCK), encoding=encoding, newline="")
    return OpenedFile(
        kind="csv",
        rows=csv_rows(text, file_name, delimiter_of(head.decode(encoding, errors="ignore"))),
        total=total,
        position=lambda: reader.count,
        digest=lambda: reader.sha256.hexdigest(),
    )


def open_xlsx(stream: BinaryIO, file_name: str, total: int) -> OpenedFile:
    """A workbook: hashed in a pass of its own (the zip is read by seeking), then its data
    sheet streamed; progress counts the sheet's uncompressed bytes."""
    digest = hashlib.sha256()
    for block in iter(lambda: stream.read(READ_BLOCK), b""):
        digest.update(block)
    stream.seek(0)
    sheet = xlsx_rows(stream, file_name)
    return OpenedFile(
        kind="xlsx",
        rows=sheet.rows,
        total=sheet.total or total,
        position=sheet.position,
        digest=digest.hexdigest,
    )


def read_bytes(source: str | Path | BinaryIO | Any) -> bytes:
    """All bytes of a small file, within the upload limit: for the importers that hold their
    file (cards' units, sales history), not for members."""
    with open_source(source) as stream:
        data = stream.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise UnreadableFile(too_large_message())
    if not data.strip():
        raise UnreadableFile(_("The file is empty."))
    return data


def read_rows(data: bytes, file_name: str) -> Iterator[tuple[Any, ...]]:
    """Every row of a file held in memory (header included), as tuples of raw cell values."""
    return open_rows(io.BytesIO(data), file_name).rows


def too_large_message() -> str:
    return _("The file is larger than %d MB: split it into several files.") % (
        MAX_UPLOAD_BYTES // (1024 * 1024)
    )


def file_kind(head: bytes, file_name: str) -> str:
    """'xlsx' or 'csv', judged by the content first: names lie more often than bytes do."""
    suffix = Path(file_name).suffix.lower()
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile(
            _("This is an old Excel 97-2003 (.xls) file: save it as .xlsx or CSV and try again.")
        )
    if suffix in (".xlsx", ".xlsm"):
        raise UnreadableFile(_("%s is not a valid Excel .xlsx file.") % file_name)
    return "csv"


def sniff_encoding(head: bytes) -> str:
    """CSV text in UTF-8 (with or without BOM), UTF-16 (Excel's 'Unicode text') or GB18030,
    judged on the first bytes (a character cut at their end does not count against them).

    Chinese Excel saves 'CSV (comma delimited)' in GBK, which GB18030 contains.
    """
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if b"\x00" in head:
        raise UnreadableFile(_("This is not a spreadsheet: upload an .xlsx or .csv file."))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return encoding
    raise UnreadableFile(
        _("This is not a spreadsheet: upload an .xlsx file, or a CSV file in UTF-8 or GBK.")
    )


def delimiter_of(text: str) -> str:
    first_line = text.lstrip("\ufeff").split("\n", 1)[0]
    # Excel's "Unicode text" is tab separated; everything else we see is comma separated.
    return "\t" if first_line.count("\t") > first_line.count(",") else ","


def csv_rows(text: io.TextIOWrapper, file_name: str, delimiter: str) -> Iterator[tuple[Any, ...]]:
    try:
        for record in csv.reader(text, delimiter=delimiter):
            yield tuple(record)
    except csv.Error as problem:
        raise UnreadableFile(
            _("%(file)s is not a valid CSV file: %(why)s") % {"file": file_name, "why": problem}
        ) from None
    except UnicodeDecodeError:
        raise UnreadableFile(
            _("%(file)s changes its text encoding part way: save it again as UTF-8 CSV.")
            % {"file": file_name}
        ) from None


def is_blank(cells: Iterable[Any]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in cells)


def split_header(rows: Iterator[tuple[Any, ...]]) -> tuple[int, list[str]]:
    """Skip leading blank rows; the first row with content is the header."""
    for number, cells in enumerate(rows, start=1):
        if not is_blank(cells):
            return number, ["" if v is None else str(v).strip() for v in cells]
    raise UnreadableFile(_("The file has no header row."))
