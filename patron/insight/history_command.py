"""`patron import sales FILE.csv|xlsx --merchant SLUG [--store CODE] [--dry-run]`: the glue
between the members app's `import` command and `patron.insight.history`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from patron.insight import history
from patron.members.importing.errors import UnreadableFile
from patron.tenancy.actor import Actor
from patron.tenancy.selectors import merchant_by_slug

ERRORS_SHOWN = 50


def add_arguments(parser) -> None:
    parser.add_argument("file", help="the .csv or .xlsx file of past sales")
    parser.add_argument("--merchant", required=True, help="merchant slug")
    parser.add_argument("--store", help="store code for rows that name no store")
    parser.add_argument("--dry-run", action="store_true", help="check only, write nothing")


def run(command: BaseCommand, options: dict[str, Any]) -> None:
    actor = Actor.system(merchant_by_slug(options["merchant"]))
    path = Path(options["file"])
    try:
        result = history.import_sales(
            actor,
            path,
            file_name=path.name,
            store_code=options.get("store"),
            dry_run=options.get("dry_run", False),
        )
    except UnreadableFile as problem:
        raise CommandError(str(problem)) from None
    report(command, result)
    if result.errors:
        raise CommandError(
            f"{len(result.errors)} row error(s): nothing was imported. Fix the rows and run again."
        )


def report(command: BaseCommand, result: history.ImportResult) -> None:
    def line(label: str, text: object) -> None:
        command.stdout.write(f"{label + ':':<19}{text}")

    if result.dry_run:
        command.stdout.write("Dry run: nothing was written.")
    line("Rows read", result.rows_read)
    line("Would import" if result.dry_run or result.errors else "Imported", result.imported)
    line("Already imported", f"{result.already} (skipped)")
    line("New members", f"{result.members_created} (by external_id)")
    if result.facets:
        line("Facets", result.facets)
    rate = result.rows_read / max(result.seconds, 1e-9)
    line("Time", f"{result.seconds:.1f} s ({rate:,.0f} rows/s)")
    if result.errors:
        command.stdout.write("Errors:")
        for error in result.errors[:ERRORS_SHOWN]:
            command.stdout.write(f"  row {error.row}, {error.column}: {error.message}")
        if len(result.errors) > ERRORS_SHOWN:
            command.stdout.write(f"  … and {len(result.errors) - ERRORS_SHOWN} more")
