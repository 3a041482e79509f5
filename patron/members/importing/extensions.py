"""Columns that the apps above members add to the members import (cards: card numbers, tiers,
opening balances), registered from their AppConfig.ready().

Members stands below them, so it cannot know what those columns mean: an *extension* names
its columns (shown in the template, matched in the header row like the built-in ones), checks
them once per row with the state it loaded once per file, and, in the import's transaction,
writes what they carry for the members just inserted. A row an extension finds a problem in is
rejected whole, like any other bad row: nothing of it is written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.models import Model

    from patron.members.importing.columns import Column
    from patron.tenancy.actor import Actor

Problem = Callable[[str, str], None]  # (column field, message): a problem of this row


@dataclass(frozen=True)
class Imported:
    """One member the import inserted, with what the extension's `clean` returned for it."""

    member_id: int
    row: int  # the file's row number
    values: Mapping[str, Any]


@dataclass(frozen=True)
class ImportExtension:
    """Columns of an app above members and what the import does with them.

    - `prepare(actor)` loads what checking needs, once per file (tiers, numbers in use);
    - `clean(state, row, raw, problem)` gets the row's number and its cells of these columns
      (field -> raw value, empty cells left out) and returns `(member_fields, values)`:
      fields written on the member row itself (only `card_no` and `Member` columns such as
      `tier_id`) and values kept for `after_insert`; it reports each problem with
      `problem(field, message)`;
    - `after_insert(actor, state, imported)` runs in the transaction of each chunk of the
      file (up to 10,000 rows) with the members just inserted (never on a dry run, never for
      skipped or rejected rows) and may return lines for the import's summary; a file has
      many chunks, so totals are better kept in `state` and told by `summary`;
    - `summary(state)` returns the lines for the import's summary once the whole file is in
      ("opening balances: …");
    - `preview(values)` shows a row's values on the console's preview (column field -> text);
    - `grows`: the tables `after_insert` fills in bulk. Their statistics are refreshed with the
      members' (`core.bulk.refresh_statistics`): a query right after a large import, such as
      `patron reconcile`, is otherwise planned for the tables as small as they were.
    """

    name: str
    columns: tuple[Column, ...]
    prepare: Callable[[Actor], Any]
    clean: Callable[[Any, int, dict[str, Any], Problem], tuple[dict[str, Any], dict[str, Any]]]
    after_insert: Callable[[Actor, Any, list[Imported]], list[str]]
    preview: Callable[[Mapping[str, Any]], dict[str, str]] = field(default=lambda values: {})
    summary: Callable[[Any], list[str]] = field(default=lambda state: [])
    grows: tuple[type[Model], ...] = ()


_extensions: dict[str, ImportExtension] = {}


def add_import_extension(extension: ImportExtension) -> None:
    """Register (or, when ready() runs again, replace) an extension under its name."""
    _extensions[extension.name] = extension


def import_extensions() -> list[ImportExtension]:
    return list(_extensions.values())


def extension_columns() -> list[tuple[ImportExtension, Column]]:
    return [
        (extension, column) for extension in _extensions.values() for column in extension.columns
    ]
