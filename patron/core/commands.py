"""Base for `patron` commands: domain errors become a readable message and exit code 1."""

from __future__ import annotations

import datetime as dt
import sys
from argparse import ArgumentParser
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from patron.core.errors import DomainError


class PatronCommand(BaseCommand):
    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except DomainError as error:
            raise CommandError(str(error)) from None


# `patron import KIND`: the command is the members app's; kinds from apps it may not import
# (the catalogue's products, beside it on its floor) register here from their AppConfig.ready().
AddArguments = Callable[[ArgumentParser], None]
RunImport = Callable[[BaseCommand, dict[str, Any]], None]
IMPORT_KINDS: dict[str, tuple[AddArguments, RunImport]] = {}


def register_import(kind: str, add_arguments: AddArguments, run: RunImport) -> None:
    IMPORT_KINDS[kind] = (add_arguments, run)


# Verbs of a command that an app above its owner adds (`patron program simulate`, the what-if
# app's): {command: {verb: (help, add_arguments, run)}}, registered from AppConfig.ready().
SUBCOMMANDS: dict[str, dict[str, tuple[str, AddArguments, RunImport]]] = {}


def register_subcommand(
    command: str, verb: str, help_text: str, add_arguments: AddArguments, run: RunImport
) -> None:
    SUBCOMMANDS.setdefault(command, {})[verb] = (help_text, add_arguments, run)


def read_text_file(name: str) -> str:
    """A file named on the command line (`-`: standard input) as UTF-8 text."""
    if name == "-":
        return sys.stdin.read()
    path = Path(name)
    if not path.is_file():
        raise CommandError(f"No such file: {name}")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CommandError(f"{name} is not UTF-8 text") from None


def as_of_for(zone_name: str, text: str | None) -> dt.datetime:
    """An `--as-of` option: a date is the start of that day in the merchant's zone
    (`zone_name`), an ISO datetime without an offset is in that zone too; none is now."""
    if not text:
        return timezone.now()
    zone = ZoneInfo(zone_name)
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime(day.year, day.month, day.day, tzinfo=zone)
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"--as-of takes a date (YYYY-MM-DD) or an ISO datetime, not {text!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)
