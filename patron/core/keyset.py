"""Keyset paging: a page starts after (or before) the row a cursor names, never at an OFFSET.

OFFSET makes the database read and throw away every row before the page, so page 2,000 of a
million members costs as much as reading them all; a keyset page seeks in the ordering's index
to the cursor's row and reads one page (docs/scale.md). A cursor is an opaque URL-safe token
holding the ordering values of the row it points at and the direction to read.

The ordering must end in a unique, non-null field (the primary key) and its fields must not be
NULL (wrap nullable ones in Coalesce as an annotation and order by the annotation).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from patron.core.errors import FieldError, ValidationFailed

T = TypeVar("T")

AFTER, BEFORE = "a", "b"


@dataclass(frozen=True)
class KeysetPage(Generic[T]):
    items: list[T]
    next_cursor: str | None  # the page after this one, None on the last page
    previous_cursor: str | None  # the page before, None on the first page

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None

    @property
    def has_previous(self) -> bool:
        return self.previous_cursor is not None


@dataclass(frozen=True)
class Key:
    """One field of an ordering: its name and whether it sorts descending."""

    name: str
    descending: bool

    @classmethod
    def parse(cls, term: str) -> Key:
        return cls(term.lstrip("-"), term.startswith("-"))

    def term(self, *, flipped: bool = False) -> str:
        descending = self.descending != flipped
        return f"-{self.name}" if descending else self.name


def encode_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"n": str(value)}
    return value


def decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "t" in value:
            return dt.datetime.fromisoformat(value["t"])
        if "d" in value:
            return dt.date.fromisoformat(value["d"])
        if "n" in value:
            return Decimal(value["n"])
    return value


def make_cursor(direction: str, values: Sequence[Any]) -> str:
    raw = json.dumps([direction, [encode_value(v) for v in values]], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def bad_cursor() -> ValidationFailed:
    message = _("This page link is not valid; start again from the first page.")
    return ValidationFailed([FieldError("cursor", message)], message)


def read_cursor(cursor: str, width: int) -> tuple[str, list[Any]]:
    """The direction and values a cursor holds; a cursor that was not made here (or for
    another ordering) is a 422, not a traceback."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        direction, values = json.loads(raw)
        values = [decode_value(v) for v in values]
    except (ValueError, TypeError, KeyError, AttributeError):
        raise bad_cursor() from None
    if direction not in (AFTER, BEFORE) or len(values) != width:
        raise bad_cursor()
    return direction, values


def beyond(keys: Sequence[Key], values: Sequence[Any], *, forward: bool) -> Q:
    """Rows strictly past `values` in the ordering (`forward`) or strictly before it.

    (a, b, id) > (x, y, z) is `a > x OR (a = x AND b > y) OR (a = x AND b = y AND id > z)`;
    the first field's bound (`a >= x`) is added on its own so the database seeks to it in the
    index instead of filtering every row from the start."""
    condition = Q()
    equal = Q()
    for key, value in zip(keys, values, strict=True):
        op = "lt" if key.descending == forward else "gt"  # descending, forward: smaller next
        condition |= equal & Q(**{f"{key.name}__{op}": value})
        equal &= Q(**{key.name: value})
    first = keys[0]
    bound = "lte" if first.descending == forward else "gte"
    return Q(**{f"{first.name}__{bound}": values[0]}) & condition


def row_values(row: Any, keys: Sequence[Key]) -> list[Any]:
    if isinstance(row, dict):
        return [row[key.name] for key in keys]
    return [getattr(row, key.name.replace("__", "_")) for key in keys]


def page_cursor(row: Any, ordering: Sequence[str]) -> str:
    """The cursor of the page after `row` (for a page read some other way, e.g. by number)."""
    return make_cursor(AFTER, row_values(row, [Key.parse(term) for term in ordering]))


def seek(rows: QuerySet, keys: Sequence[Key], values: Sequence[Any], forward: bool) -> QuerySet:
    try:
        return rows.filter(beyond(keys, values, forward=forward))
    except (ValueError, TypeError, ValidationError):
        # A cursor edited by hand: well-formed, but its values do not fit the fields.
        raise bad_cursor() from None


def assembled(
    fetched: list, values_of: Callable[[Any], list[Any]], size: int, forward: bool, cursor: Any
) -> KeysetPage:
    """The page among `fetched` (read in reading order, one row more than a page if there is
    more), in display order, with the cursors on either side."""
    more = len(fetched) > size
    items = fetched[:size]
    if not forward:
        items.reverse()
    if not items:
        return KeysetPage(items, None, None)
    first, last = values_of(items[0]), values_of(items[-1])
    if forward:
        next_cursor = make_cursor(AFTER, last) if more else None
        previous_cursor = make_cursor(BEFORE, first) if cursor else None
    else:
        next_cursor = make_cursor(AFTER, last)
        previous_cursor = make_cursor(BEFORE, first) if more else None
    return KeysetPage(items, next_cursor, previous_cursor)


def keyset_page(
    rows: QuerySet, ordering: Sequence[str], size: int, cursor: str | None = None
) -> KeysetPage:
    """One page of `rows` in `ordering` (its last field unique), starting at `cursor`."""
    keys = [Key.parse(term) for term in ordering]
    direction, values = read_cursor(cursor, len(keys)) if cursor else (AFTER, None)
    forward = direction == AFTER
    ordered = rows.order_by(*(key.term(flipped=not forward) for key in keys))
    if values is not None:
        ordered = seek(ordered, keys, values, forward)
    fetched = list(ordered[: size + 1])
    return assembled(fetched, lambda row: row_values(row, keys), size, forward, cursor)


def tiered_page(
    tiers: Sequence[QuerySet], ordering: Sequence[str], size: int, cursor: str | None = None
) -> KeysetPage:
    """One page of the rows of `tiers` one tier after the other (a search's exact matches,
    then the prefix matches, then the rest), each tier in `ordering`.

    The same page as ordering all rows by (tier, *ordering), but each tier is read with its
    own LIMIT: a first page of 10,000 prefix matches reads 51 of them in the ordering's index
    instead of sorting all 10,000 by a computed rank (docs/scale.md). A cursor holds the tier
    and the ordering values."""
    keys = [Key.parse(term) for term in ordering]
    direction, values = read_cursor(cursor, len(keys) + 1) if cursor else (AFTER, None)
    forward = direction == AFTER
    start = (0 if forward else len(tiers) - 1) if values is None else values[0]
    if not isinstance(start, int) or not 0 <= start < len(tiers):
        raise bad_cursor()
    fetched: list[tuple[int, Any]] = []
    for tier in range(start, len(tiers)) if forward else range(start, -1, -1):
        rows = tiers[tier].order_by(*(key.term(flipped=not forward) for key in keys))
        if values is not None and tier == start:
            rows = seek(rows, keys, values[1:], forward)
        fetched += [(tier, row) for row in rows[: size + 1 - len(fetched)]]
        if len(fetched) > size:
            break
    page = assembled(
        fetched, lambda pair: [pair[0], *row_values(pair[1], keys)], size, forward, cursor
    )
    return KeysetPage([row for _, row in page.items], page.next_cursor, page.previous_cursor)


@dataclass(frozen=True)
class ConsolePage(Generic[T]):
    """A console list's page, and why the cursor was ignored when it was (a link edited by
    hand or kept from another filter): the first page then, with the reason above it."""

    page: KeysetPage[T]
    ignored: str = ""


def console_page(
    rows: QuerySet, ordering: Sequence[str], size: int, cursor: str | None
) -> ConsolePage:
    try:
        return ConsolePage(keyset_page(rows, ordering, size, cursor or None))
    except ValidationFailed as problem:
        return ConsolePage(keyset_page(rows, ordering, size), problem.detail)
