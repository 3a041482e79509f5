"""`patron export members --merchant S [--segment NAME] [-o FILE.xlsx|.csv] [--unmasked]`
(API.md §1, F-29, F-45)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from patron.core.commands import PatronCommand
from patron.members import exporting
from patron.tenancy.actor import Actor
from patron.tenancy.selectors import merchant_by_slug


class Command(PatronCommand):
    help = "Export members to .xlsx or .csv (mobile and ID number masked unless --unmasked)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        members = sub.add_parser("members", help="export the merchant's members")
        members.add_argument("--merchant", required=True, help="merchant slug")
        members.add_argument(
            "-o", "--output", help="FILE.xlsx or FILE.csv (default: CSV on standard output)"
        )
        members.add_argument(
            "--segment", help="only the members of this saved segment (by its name)"
        )
        members.add_argument(
            "--unmasked",
            action="store_true",
            help="full mobiles and ID numbers (audited like every export)",
        )

    def handle(self, *args, what: str, **options):
        actor = Actor.system(merchant_by_slug(options["merchant"]))
        output = Path(options["output"]) if options["output"] else None
        chosen = {"unmasked": options["unmasked"]}
        if options["segment"]:
            members, name = exporting.segment_members(actor, options["segment"])
            chosen.update(members=members, segment=name)
        if output is None:
            result = exporting.export_members(actor, self.stdout, fmt="csv", **chosen)
            # stdout carries the data; the summary goes where it cannot corrupt it.
            self.report(result, "standard output", self.stderr)
            return
        fmt = output.suffix.lower().lstrip(".")
        if fmt not in exporting.FORMATS:
            raise CommandError("-o must name a .xlsx or .csv file")
        if not output.parent.is_dir():
            raise CommandError(f"No such directory: {output.parent}")
        if fmt == "csv":
            with output.open("w", encoding="utf-8-sig", newline="") as stream:
                result = exporting.export_members(actor, stream, fmt="csv", **chosen)
        else:
            result = exporting.export_members(actor, output, fmt="xlsx", **chosen)
        self.report(result, str(output), self.stdout)

    def report(self, result: exporting.ExportResult, where: str, stream) -> None:
        shown = "unmasked" if result.unmasked else "mobile and ID number masked"
        of = f" of segment '{result.segment}'" if result.segment else ""
        # Plain style: on a terminal stderr would otherwise print this success in red.
        stream.write(
            f"Exported {result.count} members{of} to {where} ({shown}).", style_func=lambda x: x
        )
