"""`patron import members FILE --merchant S [--dry-run] [--store CODE] [--report OUT]` and
`patron import template --merchant S -o FILE.xlsx` (F-03, API.md §1)."""

from __future__ import annotations

import contextlib
from pathlib import Path

from django.core.management.base import CommandError

from patron.core.commands import IMPORT_KINDS, PatronCommand
from patron.core.progress import ProgressBar
from patron.members import importing
from patron.members.importing.report import report_writer
from patron.tenancy.actor import Actor
from patron.tenancy.selectors import merchant_by_slug

ERRORS_SHOWN = 20
REPORT_SUFFIXES = (".csv", ".xlsx")


class Command(PatronCommand):
    help = "Bulk import members (or products) from .xlsx or .csv, or write the import template."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        members = sub.add_parser("members", help="import members from an .xlsx or .csv file")
        members.add_argument("file", help="the .xlsx or .csv file")
        members.add_argument("--merchant", required=True, help="merchant slug")
        members.add_argument("--dry-run", action="store_true", help="check only, write nothing")
        members.add_argument("--store", help="store code for rows that name no store")
        members.add_argument("--report", help="write every row error to this .csv or .xlsx")
        template = sub.add_parser("template", help="write the .xlsx import template")
        template.add_argument("--merchant", required=True, help="merchant slug")
        template.add_argument("-o", "--output", required=True, help="the .xlsx file to write")
        for kind, (add_kind_arguments, _run) in IMPORT_KINDS.items():
            add_kind_arguments(
                sub.add_parser(kind, help=f"import {kind} from an .xlsx or .csv file")
            )

    def handle(self, *args, what: str, **options):
        if what in IMPORT_KINDS:
            IMPORT_KINDS[what][1](self, options)
            return
        actor = Actor.system(merchant_by_slug(options["merchant"]))
        if what == "template":
            self.write_template(actor, Path(options["output"]))
        else:
            self.import_members(actor, options)

    def write_template(self, actor: Actor, output: Path) -> None:
        if output.suffix.lower() != ".xlsx":
            raise CommandError("The template is an Excel file: name it FILE.xlsx")
        writable_parent(output)
        output.write_bytes(importing.build_template(actor.merchant))
        self.stdout.write(f"Template written to {output}")

    def import_members(self, actor: Actor, options: dict) -> None:
        path = Path(options["file"])
        report = Path(options["report"]) if options["report"] else None
        # Refuse a report we could not write before importing anything, not after.
        if report is not None:
            if report.suffix.lower() not in REPORT_SUFFIXES:
                raise CommandError("--report must name a .csv or .xlsx file")
            writable_parent(report)
        with contextlib.ExitStack() as stack:
            on_error = stack.enter_context(report_writer(report)) if report else None
            # The raw stream: the bar redraws its line with "\r", which OutputWrapper would end.
            bar = ProgressBar(f"Importing {path.name}", stream=self.stderr._out)
            try:
                result = importing.import_members(
                    actor,
                    path,
                    file_name=path.name,
                    dry_run=options["dry_run"],
                    default_store=options["store"],
                    progress=bar,
                    on_error=on_error,
                )
            except BaseException:
                bar.finish(complete=False)
                raise
            bar.finish()
        self.print_summary(result)
        self.print_errors(result, report)
        if report is not None:
            self.stdout.write(f"Error report ({result.error_count} errors) written to {report}")

    def print_summary(self, result: importing.ImportResult) -> None:
        if result.dry_run:
            self.stdout.write("Dry run: nothing was written.")
        self.stdout.write(f"Rows read:        {result.rows_read}")
        verb = "Would import:    " if result.dry_run else "Imported:        "
        self.stdout.write(f"{verb} {result.imported}")
        self.stdout.write(f"Already members:  {result.skipped_existing} (skipped)")
        self.stdout.write(f"Rows with errors: {result.rejected} (not imported)")
        for note in result.notes:
            self.stdout.write(note)

    def print_errors(self, result: importing.ImportResult, report: Path | None) -> None:
        if not result.errors:
            return
        self.stdout.write("Errors:")
        for error in result.errors[:ERRORS_SHOWN]:
            self.stdout.write(f"  row {error.row}, {error.column}: {error.message}")
        hidden = result.error_count - ERRORS_SHOWN
        if hidden > 0:
            hint = "" if report else " (use --report FILE.csv to get them all)"
            self.stdout.write(f"  … and {hidden} more{hint}")


def writable_parent(path: Path) -> None:
    if not path.parent.is_dir():
        raise CommandError(f"No such directory: {path.parent}")
