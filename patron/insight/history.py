"""`patron import sales`: a merchant's past sales from another system (API.md §8, issue 16).

Each row becomes one ordinary `Sale` with one `SaleLine`, `channel="import"`: the analysis
(stats, facets, lifecycle, RFM, value) reads it like any sale, while it earns nothing and
moves no balance (no ledger transaction, no points, no tender; tiers and shifts leave it out
and it cannot be refunded). The file is checked whole before anything is written: one bad row
and nothing is imported. Rules and figures: docs/history-import.md.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.core.errors import DomainError
from patron.insight.history_facets import insert_rows, moment_writer, rebuild_facets
from patron.insight.models import ExternalMember
from patron.members import services as members
from patron.members.importing.errors import UnreadableFile  # noqa: F401 (callers catch it)
from patron.members.importing.reading import is_blank, read_bytes, read_rows, split_header
from patron.members.models import Channel, Member
from patron.members.validation import Invalid, normalize_mobile
from patron.sales.models import MemberStats, Sale, SaleLine
from patron.tenancy.actor import Actor
from patron.tenancy.models import Store

CHANNEL = "import"  # Sale.channel of imported history
KEY_PREFIX = "import:"
MEMBER_COLUMNS = ("external_id", "card_no", "mobile")  # the first one a row fills names it
COLUMNS = (*MEMBER_COLUMNS, "occurred_at", "store", "sku", "category", "quantity", "amount")
REQUIRED = ("occurred_at", "amount")
BATCH = 2000
LOOKUP_CHUNK = 5000  # values per IN (...) when finding members and earlier imports
MAX_AMOUNT = 10**10  # fen: as the till's largest price
MAX_QUANTITY = 100_000
PLACEHOLDER_MOBILE = "E"  # + the card number's last 10 characters: never a real mobile


class BadFile(DomainError):
    """The header is wrong: nothing can be read row by row."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail=detail, code="bad_columns", status=422)


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str


@dataclass(frozen=True)
class Row:
    """One row, read and checked: what the sale will be."""

    number: int
    names: tuple[str, str]  # (column, value) naming the member
    mobile: str  # the row's mobile, when it also gives one (for a member new by external id)
    occurred_at: dt.datetime  # aware
    store: Store
    sku: str
    category: str
    quantity: int
    amount: int

    def content(self) -> str:
        """The row as a canonical text: the same sale always reads the same."""
        moment = self.occurred_at.astimezone(dt.UTC).isoformat()
        return "\x1f".join(
            [*self.names, moment, self.store.code, self.sku, self.category]
            + [str(self.quantity), str(self.amount)]
        )


@dataclass
class ImportResult:
    rows_read: int = 0
    imported: int = 0
    already: int = 0  # rows imported by an earlier run of the same file
    members_created: int = 0
    members_touched: int = 0
    facets: str = ""
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors


# --- reading ---------------------------------------------------------------------------------


def _header(cells: list[str]) -> dict[str, int]:
    """column name -> index; unknown, repeated or missing columns refuse the file."""
    found: dict[str, int] = {}
    for index, raw in enumerate(cells):
        name = raw.strip().lower()
        if not name:
            continue
        if name not in COLUMNS:
            raise BadFile(
                _("Unknown column %(column)r: the columns are %(columns)s.")
                % {"column": raw, "columns": ", ".join(COLUMNS)}
            )
        if name in found:
            raise BadFile(_("Column %(column)r appears twice.") % {"column": name})
        found[name] = index
    if not any(name in found for name in MEMBER_COLUMNS):
        raise BadFile(_("No column names the member: give one of mobile, card_no or external_id."))
    missing = [name for name in REQUIRED if name not in found]
    if missing:
        raise BadFile(_("Missing column(s): %s.") % ", ".join(missing))
    return found


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # spreadsheets store numbers (mobiles, ids) as floats
    return str(value).strip()


def _whole(value: Any) -> int | None:
    """A whole number from a cell ("1200", 1200, 1200.0), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = _text(value).replace(",", "")
    if text.startswith("-") and text[1:].isdigit():
        return -int(text[1:])
    return int(text) if text.isdigit() else None


CANONICAL_MOBILE = re.compile(r"1[0-9]{10}")


@functools.lru_cache(maxsize=200_000)
def _mobile(text: str) -> str:
    """The mobile as members store it. 11 ASCII digits starting with 1 are taken as they are
    (they either name a member or are reported as naming nobody); other spellings (+86,
    spaces, full-width digits) go through `normalize_mobile`, once per distinct text."""
    if CANONICAL_MOBILE.fullmatch(text):
        return text
    return normalize_mobile(text)


def parse_moment(value: Any, zone: ZoneInfo) -> dt.datetime | None:
    """A date (the start of that day) or a date-time, in `zone` unless it carries an offset."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    else:
        text = _text(value).replace("/", "-")
        if not text:
            return None
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


@dataclass
class _Reader:
    """Turns cells into `Row`s, collecting every row's errors."""

    columns: dict[str, int]
    zone: ZoneInfo
    stores: dict[str, Store]
    default_store: Store | None
    now: dt.datetime
    errors: list[RowError]

    def cell(self, cells: tuple[Any, ...], name: str) -> Any:
        index = self.columns.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    def read(self, number: int, cells: tuple[Any, ...]) -> Row | None:
        before = len(self.errors)

        def problem(column: str, message: str) -> None:
            self.errors.append(RowError(number, column, message))

        names = self.member(cells, problem)
        occurred_at = self.moment(cells, problem)
        store = self.store(cells, problem)
        amount = self.whole(cells, "amount", None, 0, MAX_AMOUNT, problem)
        quantity = self.whole(cells, "quantity", 1, 1, MAX_QUANTITY, problem)
        sku, category = _text(self.cell(cells, "sku")), _text(self.cell(cells, "category"))
        if len(sku) > 64:
            problem("sku", _("A SKU has at most 64 characters."))
        if len(category) > 40:
            problem("category", _("A category has at most 40 characters."))
        if len(self.errors) > before:
            return None
        return Row(
            number,
            names,
            self.given_mobile(cells),
            occurred_at,
            store,
            sku,
            category,
            quantity,
            amount,
        )

    def member(self, cells: tuple[Any, ...], problem) -> tuple[str, str]:
        for name in MEMBER_COLUMNS:
            value = _text(self.cell(cells, name))
            if not value:
                continue
            if name == "mobile":
                try:
                    value = _mobile(value)
                except Invalid as invalid:
                    problem(name, str(invalid))
            elif len(value) > (64 if name == "external_id" else 20):
                problem(name, _("Too long to be a member's number."))
            return name, value
        problem("member", _("The row names no member (mobile, card_no or external_id)."))
        return "", ""

    def given_mobile(self, cells: tuple[Any, ...]) -> str:
        if "external_id" not in self.columns or "mobile" not in self.columns:
            return ""  # only a member new by external id takes the row's mobile
        try:
            return _mobile(_text(self.cell(cells, "mobile")))
        except Invalid:
            return ""

    def moment(self, cells: tuple[Any, ...], problem) -> dt.datetime | None:
        raw = self.cell(cells, "occurred_at")
        moment = parse_moment(raw, self.zone)
        if moment is None:
            problem(
                "occurred_at",
                _("%(value)r is not a date (YYYY-MM-DD) or a date-time.") % {"value": _text(raw)},
            )
        elif moment > self.now:
            problem("occurred_at", _("A sale in the future cannot be history."))
        return moment

    def store(self, cells: tuple[Any, ...], problem) -> Store | None:
        code = _text(self.cell(cells, "store"))
        if not code:
            if self.default_store is None:
                problem("store", _("Which store? The merchant has no store yet."))
            return self.default_store
        store = self.stores.get(code)
        if store is None:
            problem("store", _("Unknown store %(code)r.") % {"code": code})
        return store

    def whole(self, cells, name: str, default: int | None, low: int, high: int, problem):
        raw = self.cell(cells, name)
        if default is not None and not _text(raw):
            return default
        value = _whole(raw)
        if value is None:
            problem(name, _("%(value)r is not a whole number.") % {"value": _text(raw)})
        elif value < 0 and name == "amount":
            problem(name, _("The amount cannot be negative."))
        elif not low <= value <= high:
            problem(
                name,
                _("%(value)d is outside %(low)d to %(high)d.")
                % {"value": value, "low": low, "high": high},
            )
        return value


def _stores(actor: Actor, code: str | None) -> tuple[dict[str, Store], Store | None]:
    stores = list(Store.objects.filter(merchant=actor.merchant).order_by("pk"))
    by_code = {store.code: store for store in stores}
    if code:
        if code not in by_code:
            raise BadFile(_("Unknown store %(code)r (--store).") % {"code": code})
        return by_code, by_code[code]
    return by_code, (stores[0] if stores else None)


def read_file(
    actor: Actor, source: str | Path | Any, file_name: str, store_code: str | None
) -> tuple[list[Row], list[RowError], int]:
    """(rows, row errors, rows read): every row checked, nothing written."""
    rows_iter = read_rows(read_bytes(source), file_name)
    header_row, header = split_header(rows_iter)
    stores, default_store = _stores(actor, store_code)
    reader = _Reader(
        _header(header),
        ZoneInfo(actor.merchant.timezone),
        stores,
        default_store,
        timezone.now(),
        [],
    )
    rows: list[Row] = []
    read = 0
    for number, cells in enumerate(rows_iter, start=header_row + 1):
        if is_blank(cells):
            continue
        read += 1
        row = reader.read(number, cells)
        if row is not None:
            rows.append(row)
    return rows, reader.errors, read


# --- members ---------------------------------------------------------------------------------


def _chunks(values: list[Any], size: int = LOOKUP_CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _known(actor: Actor, column: str, values: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(values))
    found: dict[str, int] = {}
    for chunk in _chunks(wanted):
        if column == "external_id":
            found.update(
                ExternalMember.objects.filter(
                    merchant=actor.merchant, external_id__in=chunk
                ).values_list("external_id", "member_id")
            )
        else:
            found.update(
                Member.objects.filter(
                    merchant=actor.merchant, **{f"{column}__in": chunk}
                ).values_list(column, "pk")
            )
    return found


@dataclass
class _Members:
    ids: dict[tuple[str, str], int]  # (column, value) -> member id
    new_external: dict[str, Row]  # external id unknown -> its earliest row
    new_mobiles: dict[str, str]  # external id unknown -> the mobile its rows give
    link_external: dict[str, int]  # external id unknown, its mobile a member's -> that member


def resolve_members(actor: Actor, rows: list[Row], errors: list[RowError]) -> _Members:
    """Who each row is about; rows naming nobody by mobile or card number are errors."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        wanted[row.names[0]].add(row.names[1])
    ids: dict[tuple[str, str], int] = {}
    for column, values in wanted.items():
        for value, member_id in _known(actor, column, values).items():
            ids[(column, value)] = member_id
    new_external: dict[str, Row] = {}
    mobiles: dict[str, str] = {}
    for row in rows:
        column, value = row.names
        if (column, value) in ids:
            continue
        if column == "external_id":
            first = new_external.get(value)
            if first is None or row.occurred_at < first.occurred_at:
                new_external[value] = row
            if row.mobile:
                mobiles.setdefault(value, row.mobile)
            continue
        label = (
            _("No member with mobile %s.") if column == "mobile" else _("No member with card %s.")
        )
        errors.append(RowError(row.number, column, label % value))
    by_mobile = _known(actor, "mobile", mobiles.values()) if mobiles else {}
    link = {
        external: by_mobile[mobile] for external, mobile in mobiles.items() if mobile in by_mobile
    }
    new = {external: row for external, row in new_external.items() if external not in link}
    return _Members(ids, new, {e: m for e, m in mobiles.items() if e in new}, link)


def _create_members(actor: Actor, found: _Members) -> int:
    """Members for the external ids nobody has, then every new external id's link."""
    externals = sorted(found.new_external)
    cards = members.allocate_card_numbers(actor.merchant, len(externals))
    taken: set[str] = set()
    rows = []
    for external, card in zip(externals, cards, strict=True):
        first = found.new_external[external]
        mobile = found.new_mobiles.get(external, "")
        if mobile in taken:
            mobile = ""  # two new ids gave one mobile: the first keeps it
        taken.add(mobile)
        rows.append(
            {
                "card_no": card,
                "mobile": mobile or PLACEHOLDER_MOBILE + card[-10:],
                "joined_at": first.occurred_at,
                "store": first.store,
            }
        )
    created = members.bulk_register(actor, rows, channel=Channel.IMPORT) if rows else []
    by_card = {member.card_no: member.pk for member in created}
    links = dict(found.link_external)
    for external, card in zip(externals, cards, strict=True):
        links[external] = by_card[card]
    ExternalMember.objects.bulk_create(
        [
            ExternalMember(merchant=actor.merchant, external_id=external, member_id=member_id)
            for external, member_id in links.items()
        ],
        batch_size=BATCH,
    )
    for external, member_id in links.items():
        found.ids[("external_id", external)] = member_id
    return len(rows)


# --- keys ------------------------------------------------------------------------------------


def sale_keys(rows: list[Row]) -> list[str]:
    """`import:` + sha256 of the row's content and how many identical rows came before it in
    the file: the same file again finds its keys taken, identical rows stay separate sales."""
    seen: Counter[str] = Counter()
    keys = []
    for row in rows:
        content = row.content()
        seen[content] += 1
        digest = hashlib.sha256(f"{content}\x1e{seen[content]}".encode()).hexdigest()
        keys.append(KEY_PREFIX + digest)
    return keys


def _taken(actor: Actor, keys: list[str]) -> set[str]:
    taken: set[str] = set()
    for chunk in _chunks(keys):
        taken.update(
            Sale.objects.filter(merchant=actor.merchant, idempotency_key__in=chunk).values_list(
                "idempotency_key", flat=True
            )
        )
    return taken


# --- writing ---------------------------------------------------------------------------------


SALE_COLUMNS = ["merchant_id", "member_id", "store_id", "channel", "idempotency_key"]
SALE_COLUMNS += ["occurred_at", "created_at", "subtotal", "discount", "total"]
LINE_COLUMNS = ["sale_id", "merchant_id", "position", "sku", "category", "quantity"]
LINE_COLUMNS += ["unit_price", "member_price", "discount", "total", "store_id", "occurred_at"]


def _other_columns(model, given: list[str]) -> tuple[list[str], tuple]:
    """The model's other NOT NULL columns and their defaults ("" for text, 0, False …)."""
    fields = [
        f
        for f in model._meta.concrete_fields
        if f.attname not in given and not f.null and not f.primary_key
    ]
    return [f.attname for f in fields], tuple(f.get_default() for f in fields)


def _write_sales(actor: Actor, rows: list[Row], keys: list[str], ids: dict) -> None:
    """Multi-row inserts of values already in the database's form: the sales, their ids found
    again by their keys, then their lines."""
    merchant_id = actor.merchant.pk
    moment = moment_writer()
    now = moment(timezone.now())
    sale_extra, sale_defaults = _other_columns(Sale, SALE_COLUMNS)
    line_extra, line_defaults = _other_columns(SaleLine, LINE_COLUMNS)
    sale_defaults = _db_defaults(Sale, sale_extra, sale_defaults)
    line_defaults = _db_defaults(SaleLine, line_extra, line_defaults)
    for start in range(0, len(rows), BATCH):
        batch = [
            (row, key, moment(row.occurred_at))
            for row, key in zip(
                rows[start : start + BATCH], keys[start : start + BATCH], strict=True
            )
        ]
        insert_rows(
            Sale,
            SALE_COLUMNS + sale_extra,
            (
                (merchant_id, ids[row.names], row.store.pk, CHANNEL, key, moment, now)
                + (row.amount, 0, row.amount)
                + sale_defaults
                for row, key, moment in batch
            ),
            BATCH,
        )
        sale_ids = dict(
            Sale.objects.filter(
                merchant_id=merchant_id, idempotency_key__in=[key for _row, key, _at in batch]
            ).values_list("idempotency_key", "pk")
        )
        insert_rows(
            SaleLine,
            LINE_COLUMNS + line_extra,
            (
                (sale_ids[key], merchant_id, 0, row.sku, row.category, row.quantity)
                + (round(row.amount / row.quantity),) * 2
                + (0, row.amount, row.store.pk, moment)
                + line_defaults
                for row, key, moment in batch
            ),
            BATCH,
        )


def _db_defaults(model, columns: list[str], values: tuple) -> tuple:
    """Defaults in the database's form (JSON as text and so on), converted once."""
    return tuple(
        model._meta.get_field(column).get_db_prep_save(value, connection)
        for column, value in zip(columns, values, strict=True)
    )


STATS_COLUMNS = ["member_id", "merchant_id", "total_spend", "visits", "refunds"]
STATS_COLUMNS += ["first_visit_at", "last_visit_at", "average_ticket", "points_earned", "saved"]
STATS_COLUMNS += ["updated_at"]


def _stats_upsert() -> str:
    """Each member's running figures plus their imported sales, creating the row when they
    had none: one statement per member, sent by executemany (as the sale's own upsert)."""
    quote = connection.ops.quote_name
    table = quote(MemberStats._meta.db_table)

    def c(name: str) -> str:
        return quote(MemberStats._meta.get_field(name).column)

    first, last = c("first_visit_at"), c("last_visit_at")
    return (
        f"INSERT INTO {table} ({', '.join(c(name) for name in STATS_COLUMNS)})"
        f" VALUES ({', '.join(['%s'] * len(STATS_COLUMNS))})"
        f" ON CONFLICT ({c('member_id')}) DO UPDATE SET"
        f" {c('total_spend')} = {table}.{c('total_spend')} + excluded.{c('total_spend')},"
        f" {c('visits')} = {table}.{c('visits')} + excluded.{c('visits')},"
        f" {c('average_ticket')} = ({table}.{c('total_spend')} + excluded.{c('total_spend')})"
        f" / ({table}.{c('visits')} + excluded.{c('visits')}),"
        f" {first} = CASE WHEN {table}.{first} IS NULL OR {table}.{first} > excluded.{first}"
        f" THEN excluded.{first} ELSE {table}.{first} END,"
        f" {last} = CASE WHEN {table}.{last} IS NULL OR {table}.{last} < excluded.{last}"
        f" THEN excluded.{last} ELSE {table}.{last} END,"
        f" {c('updated_at')} = excluded.{c('updated_at')}"
    )


def _add_to_stats(actor: Actor, rows: list[Row], ids: dict) -> None:
    """Each member's running figures with their imported sales: visits, spend, first and last
    visit, average ticket (points and savings stay: history earned none)."""
    added: dict[int, list] = {}
    for row in rows:
        member_id = ids[row.names]
        figures = added.get(member_id)
        if figures is None:
            added[member_id] = [1, row.amount, row.occurred_at, row.occurred_at]
        else:
            figures[0] += 1
            figures[1] += row.amount
            figures[2] = min(figures[2], row.occurred_at)
            figures[3] = max(figures[3], row.occurred_at)
    moment = moment_writer()
    now = moment(timezone.now())
    values = [
        (member_id, actor.merchant.pk, spend, visits, 0, moment(first), moment(last))
        + (spend // visits, 0, 0, now)
        for member_id, (visits, spend, first, last) in sorted(added.items())
    ]
    with connection.cursor() as cursor:
        for chunk in _chunks(values, BATCH):
            cursor.executemany(_stats_upsert(), chunk)


def import_sales(
    actor: Actor,
    source: str | Path | Any,
    *,
    file_name: str | None = None,
    store_code: str | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Check the whole file, then (unless `dry_run` or a row is bad) write its new sales, the
    members new by external id, the members' running figures and their facets, in one
    transaction. Raises UnreadableFile / BadFile for a file that cannot be read row by row."""
    started = time.perf_counter()
    file_name = file_name or Path(str(source)).name
    rows, errors, read = read_file(actor, source, file_name, store_code)
    result = ImportResult(rows_read=read, dry_run=dry_run, errors=errors)
    found = resolve_members(actor, rows, errors)
    errors.sort(key=lambda error: error.row)
    keys = sale_keys(rows)
    taken = _taken(actor, keys)
    fresh = [(row, key) for row, key in zip(rows, keys, strict=True) if key not in taken]
    result.already = len(rows) - len(fresh)
    result.imported = len(fresh)
    result.members_created = len(found.new_external)
    if errors or dry_run or not fresh:
        if errors:
            result.imported = 0
        result.seconds = time.perf_counter() - started
        return result
    new_rows = [row for row, _key in fresh]
    with transaction.atomic():
        _create_members(actor, found)
        _write_sales(actor, new_rows, [key for _row, key in fresh], found.ids)
        _add_to_stats(actor, new_rows, found.ids)
        touched = sorted({found.ids[row.names] for row in new_rows})
        result.members_touched = len(touched)
        result.facets = rebuild_facets(actor.merchant, timezone.now(), member_ids=touched)
    result.seconds = time.perf_counter() - started
    return result
