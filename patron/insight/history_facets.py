"""What each member buys, per category, SKU, size and colour (F-33): `MemberFacet` rows.

Kept current two ways: the sale and refund activity handlers update the member's rows in the
sale's transaction (one read, one upsert), and `rebuild_facets` recomputes them from the sale
lines in bulk (the `facets` refresh step, and `patron import sales` for the members it
touched). Definitions and figures: docs/history-import.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.insight.models import Facet, MemberFacet
from patron.members.models import Member
from patron.sales.models import Refund, RefundLine, Sale, SaleLine
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant

KINDS = (Facet.CATEGORY, Facet.SKU, Facet.SIZE, Facet.COLOUR)
VALUE_LENGTH = MemberFacet._meta.get_field("value").max_length
MEMBER_CHUNK = 20_000  # members per read of their lines (bounds memory on big merchants)
INSERT_BATCH = 5000
UPSERT_FIELDS = ["visits", "quantity", "spend", "first_at", "last_at", "days", "cycle_days"]


def _utc_text(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")


def _as_is(value: dt.datetime | None) -> dt.datetime | None:
    return value


def moment_writer() -> Callable[[dt.datetime | None], Any]:
    """Aware datetimes as the backend stores them, cheaply (SQLite: naive UTC text); Django's
    own conversion costs more than the insert itself at a million rows. Ask once per batch."""
    return _utc_text if connection.vendor == "sqlite" else _as_is


def insert_rows(model: type, columns: list[str], rows: Iterable[tuple], batch: int = 5000) -> None:
    """INSERT rows already in the database's form (see `moment_writer`), `batch` per executemany;
    on PostgreSQL one COPY (the nightly facets rebuild writes millions of rows: COPY takes a
    fraction of the time of INSERT batches)."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(model._meta.get_field(name).column) for name in columns)
    if connection.vendor == "postgresql":
        with (
            connection.cursor() as cursor,
            cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"
    pending: list[tuple] = []
    with connection.cursor() as cursor:
        for row in rows:
            pending.append(row)
            if len(pending) >= batch:
                cursor.executemany(sql, pending)
                pending = []
        if pending:
            cursor.executemany(sql, pending)


def cycle_and_due(
    first_day: dt.date, last_day: dt.date, days: int, last_at: dt.datetime
) -> tuple[float | None, dt.datetime | None]:
    """(days between purchases, when the next one is due): the span from the first to the last
    day it was bought over the gaps between the distinct days; nothing below two days."""
    if days < 2:
        return None, None
    cycle = (last_day - first_day).days / (days - 1)
    return cycle, last_at + dt.timedelta(days=cycle)


# --- the live path: a sale or a refund of one member -------------------------------------------


def _line_values(line: Any) -> Iterator[tuple[str, str]]:
    for kind in KINDS:
        value = (getattr(line, kind, "") or "")[:VALUE_LENGTH]
        if value:
            yield kind, value


def _sale_lines(sale: Sale) -> list[Any]:
    recorded = getattr(sale, "recorded_lines", None)
    return list(recorded) if recorded is not None else list(sale.lines.all())


def on_activity(actor: Actor, member: Member, kind: str, detail: Mapping[str, Any]) -> None:
    """Members' activity handler: a sale adds to the facets its lines hold, a refund takes
    its amount and quantity back from them (visits and dates stay: the purchase happened)."""
    if kind == "sale" and detail.get("sale") is not None:
        add_sale(actor.merchant, member.pk, detail["sale"])
    elif kind == "refund" and detail.get("refund") is not None:
        take_back_refund(member.pk, detail["refund"])


def add_sale(merchant: Merchant, member_id: int, sale: Sale) -> None:
    zone = ZoneInfo(merchant.timezone)
    at = sale.occurred_at
    day = at.astimezone(zone).date()
    adding: dict[tuple[str, str], list[int]] = {}  # (kind, value) -> [quantity, spend]
    for line in _sale_lines(sale):
        for key in _line_values(line):
            figures = adding.setdefault(key, [0, 0])
            figures[0] += line.quantity
            figures[1] += line.total
    if not adding:
        return
    existing = _rows(member_id, adding)
    rows = []
    for (kind, value), (quantity, spend) in adding.items():
        row = existing.get((kind, value))
        if row is None:
            row = MemberFacet(
                member_id=member_id,
                merchant_id=merchant.pk,
                kind=kind,
                value=value,
                first_at=at,
                last_at=at,
                days=1,
            )
        else:
            first_day = row.first_at.astimezone(zone).date()
            last_day = row.last_at.astimezone(zone).date()
            # A day outside the known span is new; inside it (a back-dated sale) it may have
            # been counted already: counted as new here, the nightly rebuild makes it exact.
            if day not in (first_day, last_day):
                row.days += 1
            row.first_at, row.last_at = min(row.first_at, at), max(row.last_at, at)
        row.visits += 1
        row.quantity += quantity
        row.spend += spend
        _set_cycle(row, zone)
        rows.append(row)
    _upsert(rows)


def take_back_refund(member_id: int, refund: Refund) -> None:
    taking: dict[tuple[str, str], list[int]] = {}
    for row in getattr(refund, "rows", None) or refund.lines.select_related("sale_line"):
        for key in _line_values(row.sale_line):
            figures = taking.setdefault(key, [0, 0])
            figures[0] += row.quantity
            figures[1] += row.amount
    existing = _rows(member_id, taking)
    for key, (quantity, amount) in taking.items():
        row = existing.get(key)
        if row is not None:
            row.quantity -= quantity
            row.spend -= amount
    if existing:
        MemberFacet.objects.bulk_update(list(existing.values()), ["quantity", "spend"])


def _rows(member_id: int, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], MemberFacet]:
    """The member's facet rows for `keys`, in one query."""
    wanted = set(keys)
    values = {value for _kind, value in wanted}
    found = MemberFacet.objects.filter(member_id=member_id, value__in=values)
    return {(row.kind, row.value): row for row in found if (row.kind, row.value) in wanted}


def _set_cycle(row: MemberFacet, zone: ZoneInfo) -> None:
    row.cycle_days, row.due_at = cycle_and_due(
        row.first_at.astimezone(zone).date(),
        row.last_at.astimezone(zone).date(),
        row.days,
        row.last_at,
    )


def _upsert(rows: list[MemberFacet]) -> None:
    MemberFacet.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["member", "kind", "value"],
        update_fields=[*UPSERT_FIELDS, "due_at"],
    )


# --- the bulk path: every facet of many members from their sale lines --------------------------


def _members_sql(column: str, chunk: list[int], whole: bool) -> tuple[str, list[int]]:
    """The chunk's members as a condition: on a whole-merchant rebuild on PostgreSQL the chunk
    is every buyer between its first and last id, so a range (an index range scan of the
    sales) says it; otherwise the ids themselves. (On SQLite a whole rebuild of a 1,000,000-line
    merchant with the range had not finished after 10 minutes, with the list it took under 4:
    SQLite keeps the list.)"""
    if whole and connection.vendor == "postgresql":
        return f"{column} BETWEEN %s AND %s", [chunk[0], chunk[-1]]
    return f"{column} IN ({', '.join(['%s'] * len(chunk))})", list(chunk)


def _lines_sql(merchant_id: int, as_of: dt.datetime, chunk: list[int], whole: bool):
    line, sale, back = SaleLine._meta.db_table, Sale._meta.db_table, RefundLine._meta.db_table
    members, ids = _members_sql("s.member_id", chunk, whole)
    where = f"l.merchant_id = %s AND s.member_id IS NOT NULL AND l.occurred_at <= %s AND {members}"
    params: list[Any] = [merchant_id, as_of, *ids]
    sql = (
        "SELECT s.member_id, l.sale_id, l.occurred_at, l.category, l.sku, l.size, l.colour,"
        # PostgreSQL's SUM of bigints is numeric: cast back so every backend hands integers.
        " l.quantity - l.refunded_quantity, CAST(l.total - COALESCE(r.back, 0) AS BIGINT)"
        f" FROM {line} l JOIN {sale} s ON s.id = l.sale_id"
        f" LEFT JOIN (SELECT sale_line_id, SUM(amount) AS back FROM {back}"
        " GROUP BY sale_line_id) r ON r.sale_line_id = l.id"
        f" WHERE {where}"
    )
    return sql, params


SCHEMA = {
    "member_id": pl.Int64,
    "sale_id": pl.Int64,
    "occurred_at": pl.Object,
    "category": pl.Utf8,
    "sku": pl.Utf8,
    "size": pl.Utf8,
    "colour": pl.Utf8,
    "quantity": pl.Int64,
    "spend": pl.Int64,
}


def _frame(rows: list[tuple], zone: ZoneInfo) -> pl.DataFrame:
    """The lines as a frame, `occurred_at` an aware UTC datetime and `day` its local date."""
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in SCHEMA]
    data = {name: list(values) for name, values in zip(SCHEMA, columns, strict=True)}
    moments = data.pop("occurred_at")
    frame = pl.DataFrame(
        data, schema={name: kind for name, kind in SCHEMA.items() if name != "occurred_at"}
    )
    if moments and isinstance(moments[0], str):
        # SQLite hands back its text; its first 19 characters are the UTC second.
        at = (
            pl.Series("occurred_at", moments)
            .str.slice(0, 19)
            .str.to_datetime("%Y-%m-%d %H:%M:%S", time_zone="UTC")
        )
    else:
        at = pl.Series("occurred_at", moments, dtype=pl.Datetime("us", "UTC"))
    frame = frame.with_columns(at.alias("occurred_at"))
    return frame.with_columns(day=pl.col("occurred_at").dt.convert_time_zone(str(zone)).dt.date())


FACET_COLUMNS = ["member_id", "merchant_id", "kind", "value", "visits", "quantity", "spend"]
FACET_COLUMNS += ["first_at", "last_at", "days", "cycle_days", "due_at"]


MICROSECONDS_A_DAY = 86_400_000_000


def facet_rows(frame: pl.DataFrame, merchant_id: int) -> Iterator[tuple]:
    """The frame's facets as `FACET_COLUMNS` tuples, grouped per kind with Polars; the cycle
    and the due moment computed there too, as `cycle_and_due` does (no Python per row beyond
    the tuple: the nightly rebuild makes millions)."""
    moment = moment_writer()
    days = pl.col("days")
    cycle = (
        pl.when(days >= 2)
        .then((pl.col("last_day") - pl.col("first_day")).dt.total_days() / (days - 1))
        .otherwise(None)
    )
    due = pl.col("last_at") + pl.duration(
        microseconds=(pl.col("cycle_days") * MICROSECONDS_A_DAY).round(0).cast(pl.Int64)
    )
    for kind in KINDS:
        grouped = (
            frame.filter(pl.col(kind) != "")
            .with_columns(pl.col(kind).str.slice(0, VALUE_LENGTH))
            .group_by("member_id", kind)
            .agg(
                visits=pl.col("sale_id").n_unique(),
                days=pl.col("day").n_unique(),
                quantity=pl.col("quantity").sum(),
                spend=pl.col("spend").sum(),
                first_at=pl.col("occurred_at").min(),
                last_at=pl.col("occurred_at").max(),
                first_day=pl.col("day").min(),
                last_day=pl.col("day").max(),
            )
            .with_columns(cycle_days=cycle)
            .with_columns(due_at=due)
            .select(
                "member_id",
                pl.lit(merchant_id).alias("merchant_id"),
                pl.lit(kind).alias("kind"),
                kind,
                "visits",
                "quantity",
                "spend",
                "first_at",
                "last_at",
                "days",
                "cycle_days",
                "due_at",
            )
        )
        if moment is _as_is:
            yield from grouped.iter_rows()
            continue
        for row in grouped.iter_rows():
            yield row[:7] + (moment(row[7]), moment(row[8]), row[9], row[10], moment(row[11]))


def _member_chunks(merchant: Merchant, member_ids: list[int] | None) -> Iterator[list[int]]:
    if member_ids is None:
        ids = list(
            Sale.objects.filter(merchant=merchant, member__isnull=False)
            .values_list("member_id", flat=True)
            .distinct()
            .order_by("member_id")
        )
    else:
        ids = sorted(set(member_ids))
    for start in range(0, len(ids), MEMBER_CHUNK):
        yield ids[start : start + MEMBER_CHUNK]


FACETS_LOCK = 16_033  # pg_advisory_xact_lock's first key: "facets" (issue 16, F-33)


def _one_rebuild_at_a_time(merchant: Merchant) -> None:
    """Two rebuilds of one merchant at once (the nightly refresh and an import) would each
    delete and insert the same rows: on PostgreSQL the second waits for the first to commit
    (a transaction-scoped advisory lock, so nothing else of the merchant is blocked). SQLite
    lets one writer in at a time anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [FACETS_LOCK, merchant.pk])


def _stored(merchant_id: int, chunk: list[int], whole: bool) -> dict[tuple, tuple[int, tuple]]:
    """The chunk's facet rows as stored: (member, kind, value) -> (id, `FACET_COLUMNS` tuple),
    in the form `facet_rows` gives them (the same backend's form)."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(MemberFacet._meta.get_field(n).column) for n in FACET_COLUMNS)
    members, ids = _members_sql("member_id", chunk, whole)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, {names} FROM {MemberFacet._meta.db_table}"
            f" WHERE merchant_id = %s AND {members}",
            [merchant_id, *ids],
        )
        found = cursor.fetchall()
    if connection.vendor == "sqlite":
        # SQLite hands the moments back as naive UTC datetimes; written, they are text.
        found = [
            row[:8]
            + (_naive_text(row[8]), _naive_text(row[9]))
            + row[10:12]
            + (_naive_text(row[12]),)
            for row in found
        ]
    return {(row[1], row[3], row[4]): (row[0], row[1:]) for row in found}


def _naive_text(value: Any) -> Any:
    return value.isoformat(" ") if isinstance(value, dt.datetime) else value


def _delete_ids(ids: list[int]) -> None:
    table = MemberFacet._meta.db_table
    with connection.cursor() as cursor:
        for start in range(0, len(ids), INSERT_BATCH):
            batch = ids[start : start + INSERT_BATCH]
            cursor.execute(
                f"DELETE FROM {table} WHERE id IN ({', '.join(['%s'] * len(batch))})", batch
            )


def _write_changes(rows: list[tuple], stored: dict[tuple, tuple[int, tuple]]) -> int:
    """Make the stored rows of a chunk equal `rows`: rows that did not change stay, changed
    and gone ones are deleted, changed and new ones inserted. On a usual night few members
    bought, so a rebuild of a million members writes thousands of rows, not millions (each
    write costs six index entries and two foreign-key checks). Rows written."""
    inserting: list[tuple] = []
    stale: list[int] = []
    for row in rows:
        found = stored.pop((row[0], row[2], row[3]), None)
        if found is not None:
            if found[1] == row:
                continue
            stale.append(found[0])
        inserting.append(row)
    stale += [facet_id for facet_id, _row in stored.values()]  # no longer bought
    _delete_ids(stale)
    insert_rows(MemberFacet, FACET_COLUMNS, inserting, INSERT_BATCH)
    return len(inserting) + len(stale)


def _without_buyers(merchant: Merchant) -> None:
    """Facets of members who no longer have any sale (their sales deleted): none is left."""
    facet, sale = MemberFacet._meta.db_table, Sale._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {facet} WHERE merchant_id = %s AND NOT EXISTS (SELECT 1 FROM {sale} s"
            f" WHERE s.member_id = {facet}.member_id AND s.merchant_id = %s)",
            [merchant.pk, merchant.pk],
        )


def rebuild_facets(
    merchant: Merchant, as_of: dt.datetime | None = None, *, member_ids: list[int] | None = None
) -> str:
    """Every facet of the merchant's members (or of `member_ids`) recomputed from their sale
    lines up to `as_of`: read in chunks of members, grouped with Polars, compared with the
    stored rows and only the differences written."""
    as_of = as_of or timezone.now()
    zone = ZoneInfo(merchant.timezone)
    whole = member_ids is None
    members = lines = facets = 0
    with transaction.atomic():
        _one_rebuild_at_a_time(merchant)
        if whole:
            _without_buyers(merchant)
        for chunk in _member_chunks(merchant, member_ids):
            sql, params = _lines_sql(merchant.pk, as_of, chunk, whole)
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                found = cursor.fetchall()
            rows = list(facet_rows(_frame(found, zone), merchant.pk))
            _write_changes(rows, _stored(merchant.pk, chunk, whole))
            members += len(chunk)
            lines += len(found)
            facets += len(rows)
    return _("%(facets)s preferences of %(members)s members from %(lines)s sale lines") % {
        "facets": f"{facets:,}",
        "members": f"{members:,}",
        "lines": f"{lines:,}",
    }


def refresh_step(merchant: Merchant, as_of: dt.datetime) -> str:
    """The `facets` step of `patron insight refresh` (order 15)."""
    return rebuild_facets(merchant, as_of)
