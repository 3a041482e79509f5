"""Base for `patron` commands: domain errors become a readable message and exit code 1."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from patron.core.errors import DomainError


class PatronCommand(BaseCommand):
    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except DomainError as error:
            raise CommandError(str(error)) from None
