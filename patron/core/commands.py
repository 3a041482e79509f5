"""Base for `patron` commands: domain errors become a readable message and exit code 1."""

from __future__ import annotations

from argparse import ArgumentParser
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError

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
