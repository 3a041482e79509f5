"""What the apps above members add to a member as the API and the console show them.

Members stands below promotions, sales, the wallet and the apps to come (cards, insight,
campaigns): they know members, members does not know them. Each registers what it adds from
its AppConfig.ready():

- a *fact* for the API's member body (`tier`, `stats`, later `lifecycle`, `rfm` …), with a way
  to load it for a whole page of members in the same query when lists show it;
- a *panel* for the console's member page: HTML rendered into a slot of members/detail.html
  (`badge` beside the name, `main` the cards of the left-hand column under the profile, `side`
  the cards of the right-hand column);
- a *column* of the console's member list that people may sort by (tier, points, stored value,
  last visit): how to load it for a page, what to order by, and the cell to show. Its `prepare`
  must keep the list one query (annotations, joins on indexed columns), and its sort key must
  order the same on SQLite and PostgreSQL (the list adds the member id as the tie-breaker and
  puts empty values first going up, last going down).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import (
    CharField,
    DateField,
    DateTimeField,
    F,
    Field,
    QuerySet,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils.safestring import SafeString

if TYPE_CHECKING:
    from django.utils.functional import Promise

    from patron.members.models import Member

PANEL_SLOTS = ("badge", "main", "side")


@dataclass(frozen=True)
class Fact:
    name: str
    value: Callable[[Member], Any]
    # Lists of members show it too (else only the answer about one member carries it).
    in_lists: bool = True
    # Loads what `value` reads for a whole queryset at once (select_related, annotations).
    prepare: Callable[[QuerySet], QuerySet] | None = None


@dataclass(frozen=True)
class Panel:
    slot: str
    render: Callable[[HttpRequest, Member], SafeString | str]
    order: int = 100


@dataclass(frozen=True)
class Column:
    name: str  # the value of ?sort= (with a leading "-" for descending)
    label: str | Promise
    # Loads what `sort_key` and `cell` read for a whole queryset (annotations, select_related).
    prepare: Callable[[QuerySet], QuerySet]
    sort_key: str  # a field path or an annotation `prepare` adds
    cell: Callable[[Member], SafeString | str]
    numeric: bool = False
    order: int = 100


_facts: dict[str, Fact] = {}
_panels: list[Panel] = []
_columns: dict[str, Column] = {}


def add_fact(fact: Fact) -> None:
    _facts[fact.name] = fact


def add_panel(panel: Panel) -> None:
    if panel.slot not in PANEL_SLOTS:
        raise ValueError(f"unknown member panel slot {panel.slot!r}")
    if panel not in _panels:  # ready() may run more than once in tests
        _panels.append(panel)
        _panels.sort(key=lambda p: p.order)


def prepared(members: QuerySet) -> QuerySet:
    """The queryset made ready for every registered fact (one query for a page, not one per
    member)."""
    for fact in _facts.values():
        if fact.prepare is not None:
            members = fact.prepare(members)
    return members


def facts(member: Member, *, listing: bool) -> dict[str, Any]:
    return {
        name: fact.value(member) for name, fact in _facts.items() if fact.in_lists or not listing
    }


def panels(request: HttpRequest, member: Member) -> dict[str, list[SafeString | str]]:
    """Rendered panels by slot, for members/detail.html."""
    shown: dict[str, list[SafeString | str]] = {slot: [] for slot in PANEL_SLOTS}
    for panel in _panels:
        shown[panel.slot].append(panel.render(request, member))
    return shown


def add_column(column: Column) -> None:
    _columns[column.name] = column


def columns() -> list[Column]:
    return sorted(_columns.values(), key=lambda c: (c.order, c.name))


def with_columns(members: QuerySet) -> QuerySet:
    """The queryset with what every registered column shows."""
    for column in columns():
        members = column.prepare(members)
    return members


def column_named(sort: str) -> Column | None:
    """The column `sort` names ("points" or "-points"), None when it names none."""
    return _columns.get(sort.removeprefix("-")) if sort else None


def lowest_value(field: Field) -> Any:
    """A value below every real one of the field's type: empty cells sort as it (first going
    up, last going down) and keyset pages need a value, never NULL, to seek past."""
    if isinstance(field, DateTimeField):
        return dt.datetime(1, 1, 2, tzinfo=dt.UTC)
    if isinstance(field, DateField):
        return dt.date(1, 1, 1)
    if isinstance(field, CharField | TextField):
        return ""
    return -(2**62)


def with_sort_value(members: QuerySet, column: Column) -> QuerySet:
    """`sort_value`: the column's sort key with empty cells as `lowest_value`."""
    members = column.prepare(members)
    field = F(column.sort_key).resolve_expression(members.query).output_field
    floor = Value(lowest_value(field), output_field=field)
    return members.annotate(sort_value=Coalesce(F(column.sort_key), floor, output_field=field))


def cells(member: Member) -> list[tuple[Column, SafeString | str]]:
    return [(column, column.cell(member)) for column in columns()]
