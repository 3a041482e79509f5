"""What can go wrong with an import file: the whole file (nothing is imported) or one row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from patron.core.errors import DomainError, FieldError


class UnreadableFile(DomainError):
    """The file is not a spreadsheet we can read at all: nothing is imported."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail=detail, code="unreadable_file", status=400)


class BadColumns(DomainError):
    """The header row does not fit: unknown, duplicate or missing required columns."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(
            detail=_("The columns of the file are not right; nothing was imported."),
            code="bad_columns",
            status=422,
            errors=errors,
        )


@dataclass(frozen=True)
class RowError:
    row: int  # as the spreadsheet numbers it: the header is row 1
    column: str  # the header as written in the file
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}
