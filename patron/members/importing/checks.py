"""Every data row of a file checked against the merchant's members, stores and custom fields.

Checking writes nothing. A row with any problem is rejected whole and reports every problem,
each under the header the merchant wrote; mobiles already registered are skipped whatever else
their row holds, which is what makes re-running a file safe. Rows are checked in chunks as
they stream from the file: what checking needs from the database is loaded once per file
(stores, custom fields) or once per chunk (which of its mobiles are registered, one query on
the unique index), never once per row, and nothing grows with the merchant's members.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
import zoneinfo
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NoReturn

from django.utils import timezone
from django.utils.translation import gettext as _

from patron.core.errors import FieldError, PermissionDenied, ValidationFailed
from patron.members.importing.cells import (
    as_text,
    cell,
    clean_joined_at,
    coerce_custom_value,
    coerce_member_value,
)
from patron.members.importing.columns import ColumnPlan, plan_columns
from patron.members.importing.errors import RowError
from patron.members.importing.extensions import ImportExtension, import_extensions
from patron.members.importing.reading import is_blank, split_header
from patron.members.models import CustomField
from patron.members.selectors import registered_among
from patron.members.services import custom_field_definitions
from patron.members.validation import Invalid, clean_custom, clean_member_fields, normalize_mobile
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant, Store
from patron.tenancy.selectors import active_stores

CHUNK_ROWS = 10_000  # rows checked (and, on a real run, inserted) together
EXTENSION_VALUES = "extension_values"  # a checked row's key for what extensions keep
PLAIN_MOBILE = re.compile(r"^1[3-9]\d{9}$")
SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+\d+$")


@dataclass
class ImportContext:
    """What checking needs from the database, loaded once per file (never once per row)."""

    actor: Actor
    merchant: Merchant
    definitions: list[CustomField]
    stores: dict[str, Store]  # code, lower-case code and unambiguous name -> store
    bound_store: Store | None  # store-bound staff import into their own store only
    default_store: Store | None
    zone: zoneinfo.ZoneInfo
    now: dt.datetime
    assigned_prefixes: set[str] = field(default_factory=set)  # see checked_mobile
    # Every mobile of the file so far (as an int: a quarter of a str's size) -> its row, to
    # report a mobile repeated in the file; the one thing that grows with the file.
    first_seen: dict[int, int] = field(default_factory=dict)
    # The registered extensions whose columns the file has, with what each loaded for it.
    extensions: dict[str, tuple[ImportExtension, Any]] = field(default_factory=dict)


@dataclass
class CheckedChunk:
    """One chunk of a file's rows, checked."""

    rows_read: int = 0
    skipped_existing: int = 0
    rejected: int = 0
    valid: list[dict[str, Any]] = field(default_factory=list)  # ready for bulk_insert_members
    valid_rows: list[int] = field(default_factory=list)  # their row numbers, same order
    errors: list[RowError] = field(default_factory=list)


def store_index(merchant: Merchant) -> dict[str, Store]:
    stores = list(active_stores(merchant))
    index: dict[str, Store] = {}
    names: dict[str, list[Store]] = {}
    for store in stores:
        names.setdefault(store.name.strip(), []).append(store)
    for name, found in names.items():
        if len(found) == 1:
            index[name] = found[0]
    for store in stores:
        index[store.code.lower()] = store
    for store in stores:
        index[store.code] = store  # an exact code always wins over a name or another case
    return index


def find_store(stores: dict[str, Store], raw: Any) -> Store | None:
    key = str(as_text(raw)).strip()
    return stores.get(key) or stores.get(key.lower())


def build_context(actor: Actor, default_store: Store | str | None) -> ImportContext:
    merchant = actor.merchant
    stores = store_index(merchant)
    bound = actor.store_bound
    chosen: Store | None = None
    if isinstance(default_store, Store):
        chosen = stores.get(default_store.code)
        if chosen is None or chosen.pk != default_store.pk:
            raise_store_problem(_("Unknown store."))
    elif default_store:
        chosen = find_store(stores, default_store)
        if chosen is None:
            raise_store_problem(_("Unknown store: %s") % default_store)
    if bound is not None:
        if chosen is not None and chosen.pk != bound.pk:
            raise PermissionDenied(_("You can only import members into your own store."))
        chosen = bound
    return ImportContext(
        merchant=merchant,
        definitions=custom_field_definitions(merchant),
        stores=stores,
        bound_store=bound,
        default_store=chosen,
        actor=actor,
        zone=zoneinfo.ZoneInfo(merchant.timezone),
        now=timezone.now(),
    )


def raise_store_problem(message: str) -> NoReturn:
    raise ValidationFailed([FieldError("store", message)])


def checked_mobile(raw: Any, assigned_prefixes: set[str]) -> str:
    """`normalize_mobile`, remembering the 5-digit prefixes of the numbers found assigned.

    phonenumbers judges an 11-digit number starting 13-19 by its mobile pattern alone, and
    that pattern looks at no more than the first 5 digits (`1740[0-5]`) plus the length: every
    plain 11-digit number sharing a prefix with one found valid is valid too. One look-up
    per prefix spares phonenumbers (about 60 µs a number) on nearly every row.
    """
    if isinstance(raw, str) and PLAIN_MOBILE.match(raw) and raw[:5] in assigned_prefixes:
        return raw
    mobile = normalize_mobile(raw)
    assigned_prefixes.add(mobile[:5])
    return mobile


def prepare_file(
    actor: Actor, rows: Iterator[tuple[Any, ...]], default_store: Store | str | None
) -> tuple[ImportContext, ColumnPlan, int]:
    """Read the header row and plan the columns (raises when the file is unusable); returns
    the context, the plan and the number of the first data row."""
    header_row, headers = split_header(rows)
    ctx = build_context(actor, default_store)
    plan = plan_columns(headers, ctx.definitions)
    used = {name for _index, name, _field in plan.extra}
    ctx.extensions = {
        extension.name: (extension, extension.prepare(actor))
        for extension in import_extensions()
        if extension.name in used
    }
    return ctx, plan, header_row + 1


def check_chunks(
    rows: Iterator[tuple[Any, ...]],
    first_row: int,
    plan: ColumnPlan,
    ctx: ImportContext,
    size: int | None = None,
) -> Iterator[CheckedChunk]:
    """The data rows checked `size` (CHUNK_ROWS) non-blank rows at a time, as they stream."""
    size = size or CHUNK_ROWS
    numbered = (
        (number, cells) for number, cells in enumerate(rows, start=first_row) if not is_blank(cells)
    )
    while chunk := list(itertools.islice(numbered, size)):
        yield check_chunk(chunk, plan, ctx)


def check_chunk(
    chunk: list[tuple[int, tuple[Any, ...]]], plan: ColumnPlan, ctx: ImportContext
) -> CheckedChunk:
    """Clean a chunk of rows; a row with any problem is rejected whole, with every problem.

    The chunk's mobiles come first, so that one query tells which are registered already:
    those rows are skipped whatever else they hold.
    """
    result = CheckedChunk(rows_read=len(chunk))
    mobiles: list[tuple[int, tuple[Any, ...], str | None, list[RowError]]] = []
    for number, cells in chunk:
        errors: list[RowError] = []
        mobile = row_mobile(cells, plan, ctx, row_problems(number, plan, errors))
        mobiles.append((number, cells, mobile, errors))
    # A mobile seen earlier in the file is a repeat (an error), even though a real run has
    # inserted its first row by now: only the others can be members from before.
    unseen = [m for _n, _c, m, _e in mobiles if m is not None and int(m) not in ctx.first_seen]
    taken = registered_among(ctx.actor, unseen)
    for number, cells, mobile, errors in mobiles:
        if mobile in taken:
            # Skipped whatever else the row holds: re-running a file that was imported before
            # must neither change those members nor report their rows again.
            result.skipped_existing += 1
            continue
        cleaned = check_row(number, cells, plan, ctx, mobile, errors)
        if errors:
            result.rejected += 1
            result.errors.extend(errors)
        else:
            result.valid.append(cleaned)
            result.valid_rows.append(number)
    return result


Problem = Callable[[str, str], None]  # (error field, message) -> recorded for the row


def row_problems(number: int, plan: ColumnPlan, errors: list[RowError]) -> Problem:
    def problem(error_field: str, message: str) -> None:
        errors.append(RowError(number, plan.column(error_field), message))

    return problem


def check_row(
    number: int,
    cells: tuple[Any, ...],
    plan: ColumnPlan,
    ctx: ImportContext,
    mobile: str | None,
    errors: list[RowError],
) -> dict[str, Any]:
    """The cleaned row of a mobile not yet registered ({} when `errors` got any)."""
    problem = row_problems(number, plan, errors)
    if mobile is not None:
        first = ctx.first_seen.setdefault(int(mobile), number)
        if first != number:
            problem("mobile", _("The same mobile is already on row %d.") % first)
    fields = row_member_fields(cells, plan, problem)
    custom = row_custom(cells, plan, ctx, problem)
    store = row_store(cells, plan, ctx, problem)
    joined_at = row_joined_at(cells, plan, ctx, problem)
    member_fields, extra = row_extensions(number, cells, plan, ctx, problem)
    if errors:
        return {}
    fields.update(member_fields)
    if extra:
        fields[EXTENSION_VALUES] = extra
    fields["mobile"] = mobile
    fields["store"] = store
    fields["custom"] = custom
    if joined_at is not None:
        fields["joined_at"] = joined_at
    return fields


def row_mobile(
    cells: tuple[Any, ...], plan: ColumnPlan, ctx: ImportContext, problem: Problem
) -> str | None:
    raw_mobile = cell(cells, plan.mobile)
    if raw_mobile is None:
        problem("mobile", _("This field is required."))
        return None
    try:
        return checked_mobile(as_text(raw_mobile), ctx.assigned_prefixes)
    except Invalid as invalid:
        problem("mobile", str(invalid))
        return None


def row_member_fields(cells: tuple[Any, ...], plan: ColumnPlan, problem: Problem) -> dict[str, Any]:
    raw: dict[str, Any] = {}
    numeric: set[str] = set()
    for index, name in plan.fields:
        value = cell(cells, index)
        if value is not None:
            if isinstance(value, int | float):
                numeric.add(name)
            raw[name] = coerce_member_value(name, value)
    # Only the cells present are cleaned, so empty cells keep the model's defaults.
    fields, field_errors = clean_member_fields(raw, partial=True)
    for error in field_errors:
        message = error.message
        if error.field == "id_number" and (
            "id_number" in numeric or SCIENTIFIC.match(str(raw["id_number"]))
        ):
            message = f"{message} {_('Excel stored it as a number: format the column as text.')}"
        problem(error.field, message)
    return fields


def row_custom(
    cells: tuple[Any, ...], plan: ColumnPlan, ctx: ImportContext, problem: Problem
) -> dict[str, Any]:
    custom_raw = {}
    for index, definition in plan.custom:
        value = cell(cells, index)
        if value is not None:
            custom_raw[definition.key] = coerce_custom_value(definition, value)
    custom, custom_errors = clean_custom(ctx.definitions, custom_raw, partial=False)
    for error in custom_errors:
        problem(error.field, error.message)
    return custom


def row_store(
    cells: tuple[Any, ...], plan: ColumnPlan, ctx: ImportContext, problem: Problem
) -> Store | None:
    """The row's store, or the import's default store when the row names none."""
    if plan.store is None or (raw_store := cell(cells, plan.store)) is None:
        return ctx.default_store
    store = find_store(ctx.stores, raw_store)
    if store is None:
        problem("store", _("Unknown store: %s") % as_text(raw_store))
    elif ctx.bound_store is not None and store.pk != ctx.bound_store.pk:
        problem("store", _("You can only import members into your own store."))
    return store


def row_extensions(
    number: int, cells: tuple[Any, ...], plan: ColumnPlan, ctx: ImportContext, problem: Problem
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The registered columns of the row, cleaned by their extensions: (member fields,
    {extension: values}); an extension whose cells are all empty is not asked."""
    raw: dict[str, dict[str, Any]] = {}
    for index, name, column in plan.extra:
        value = cell(cells, index)
        if value is not None:
            raw.setdefault(name, {})[column] = value
    member_fields: dict[str, Any] = {}
    extra: dict[str, dict[str, Any]] = {}
    for name, values in raw.items():
        extension, state = ctx.extensions[name]
        fields, kept = extension.clean(state, number, values, problem)
        member_fields.update(fields)
        if kept:
            extra[name] = kept
    return member_fields, extra


def row_joined_at(
    cells: tuple[Any, ...], plan: ColumnPlan, ctx: ImportContext, problem: Problem
) -> dt.datetime | None:
    if plan.joined_at is None or (raw_joined := cell(cells, plan.joined_at)) is None:
        return None
    try:
        return clean_joined_at(raw_joined, ctx.zone, ctx.now)
    except Invalid as invalid:
        problem("joined_at", str(invalid))
        return None
