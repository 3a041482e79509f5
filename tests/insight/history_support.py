"""Shared helpers of the history tests: files of past sales written in the test."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

HEADER = ["mobile", "occurred_at", "store", "sku", "category", "quantity", "amount"]


def write_csv(path: Path, rows: list[list], header: list[str] = HEADER) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def write_xlsx(path: Path, rows: list[list], header: list[str] = HEADER) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def run_import(path: Path, *extra: str) -> tuple[int, str]:
    """(exit code, output) of `patron import sales FILE --merchant acme …`, in process."""
    out = io.StringIO()
    try:
        call_command("import", "sales", str(path), "--merchant", "acme", *extra, stdout=out)
    except CommandError as error:
        return 1, out.getvalue() + str(error)
    return 0, out.getvalue()
