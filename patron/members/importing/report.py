"""The per-row error report: every rejected row's problems as a CSV or .xlsx for people.

The batch keeps only the first errors; the CLI streams every error to its report as the import
finds it (`report_writer`), the console writes what the batch kept.
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import openpyxl

from patron.members.importing.errors import RowError

REPORT_HEADERS = ("行号 row", "列 column", "问题 problem")


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


@contextlib.contextmanager
def report_writer(path: Path) -> Iterator[Callable[[RowError], None]]:
    """A sink that writes each error to the report as the import finds it, so that a file
    with millions of bad rows never holds its errors in memory (the CLI's `--report`)."""
    if path.suffix.lower() == ".xlsx":
        # openpyxl's write-only sheet spools its rows to a temporary file, not to memory.
        workbook = openpyxl.Workbook(write_only=True)
        sheet = workbook.create_sheet("错误 Errors")
        sheet.append(list(REPORT_HEADERS))
        try:
            yield lambda error: sheet.append([error.row, error.column, error.message])
        finally:
            workbook.save(path)
        return
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(REPORT_HEADERS)
        yield lambda error: writer.writerow([error.row, error.column, error.message])


def write_report(errors: Iterable[RowError | dict[str, Any]], path: Path) -> None:
    if path.suffix.lower() == ".xlsx":
        write_report_xlsx(errors, path)
        return
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        write_report_csv(errors, stream)
