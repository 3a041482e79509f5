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
    out = command.stdout
    if result.dry_run:
        out.write("Dry run: nothing was written.")
    out.write(f"Rows read:         {result.rows_read}")
    verb = "Would import:     " if result.dry_run or result.errors else "Imported:         "
    out.write(f"{verb}{result.imported}")
    out.write(f"Already imported:  {result.already} (skipped)")
    out.write(f"New members:       {result.members_created} (by external_id)")
    if result.facets:
        out.write(f"Facets:            {result.facets}")
    seconds = max(result.seconds, 1e-9)
    out.write(
        f"Time:              {result.seconds:.1f} s ({result.rows_read / seconds:,.0f} rows/s)"
    )
    if result.errors:
        out.write("Errors:")
        for error in result.errors[:ERRORS_SHOWN]:
            out.write(f"  row {error.row}, {error.column}: {error.message}")
        if len(result.errors) > ERRORS_SHOWN:
            out.write(f"  … and {len(result.errors) - ERRORS_SHOWN} more")
