"""`patron program simulate FILE --merchant SLUG --from DATE --to DATE [--store S]` (API.md
§13): the JSON on standard output, the faithfulness line and any differences on standard
error. A verb of the program app's command, added from here (core.commands.SUBCOMMANDS)."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from patron.core.commands import read_text_file, register_subcommand
from patron.program import services as program
from patron.tenancy.actor import Actor
from patron.tenancy.selectors import merchant_by_slug
from patron.whatif import services

SHOWN_DIFFERENCES = 20


def add_arguments(parser: ArgumentParser) -> None:
    parser.add_argument("file", help="the draft program file (YAML or JSON; - for standard input)")
    parser.add_argument("--merchant", required=True)
    parser.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD")
    parser.add_argument("--to", dest="last", required=True, help="last day, YYYY-MM-DD (included)")
    parser.add_argument("--store", default=None, help="replay only this store's sales")
    parser.add_argument("--workers", type=int, default=None, help="worker processes")


def run(command: BaseCommand, options: dict[str, Any]) -> None:
    actor = Actor.system(merchant_by_slug(options["merchant"]))
    document = program.parse_document(read_text_file(options["file"]))
    asked = services.question(actor, options["first"], options["last"], options["store"])
    result = services.simulate(actor, document, asked, workers=options["workers"])
    command.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    command.stderr.write(result.faithful_line())
    for found in result.differences[:SHOWN_DIFFERENCES]:
        command.stderr.write(
            f"  sale {found.sale_id} {found.field}: recorded {found.recorded}, "
            f"replayed {found.replayed}"
        )
    if result.imported:
        command.stderr.write(
            f"{result.imported} imported sale(s) re-priced (priced elsewhere: not compared)"
        )


def register() -> None:
    register_subcommand(
        "program",
        "simulate",
        "replay the range's sales under the current program and a draft (nothing is written)",
        add_arguments,
        run,
    )
