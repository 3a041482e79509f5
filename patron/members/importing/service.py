"""The import itself: check a members file, record its batch and, unless a dry run, insert it.

`import_members` is the one service the CLI, the console and the API share. A dry run records
its batch too (the console previews a dry run and the operator confirms that very batch). The
file streams through in chunks of `CHUNK_ROWS`: each chunk is checked, and on a real run its
good rows are inserted with `bulk_insert_members` (then what the columns registered from above
carry, `extensions`) and the batch's counts moved on, in one transaction per chunk. Memory
stays bounded whatever the file's size and the batch shows how far the import has got; an
import that stops part way keeps the chunks it committed, and running the file again skips
those members (rows whose mobile is already a member's are skipped) and finishes the job.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.utils.translation import gettext as _

from patron.core.bulk import commit_without_waiting_for_disk, refresh_statistics
from patron.core.errors import Conflict, DomainError, PermissionDenied
from patron.members.importing.checks import (
    EXTENSION_VALUES,
    CheckedChunk,
    ImportContext,
    check_chunks,
    prepare_file,
)
from patron.members.importing.errors import RowError
from patron.members.importing.extensions import Imported, ImportExtension
from patron.members.importing.reading import OpenedFile, open_rows, open_source
from patron.members.models import Channel, Gender, ImportBatch, ImportStatus, Member
from patron.members.selectors import registered_among
from patron.members.services import bulk_insert_members
from patron.members.validation import mask_mobile
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Role, Store
from patron.tenancy.services import audit

MAX_STORED_ERRORS = 10_000  # the batch keeps this many; the CLI report streams every one
PREVIEW_ROWS = 20
INSERT_ATTEMPTS = 3  # a random referral code may collide with an existing one: retry
IMPORT_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER)
SQLITE_CACHE_KIB = 256 * 1024  # while writing a file (see sqlite_cache); grown only as used

Progress = Callable[[int, int, int], None]  # (bytes read, bytes in all, rows read so far)
ErrorSink = Callable[[RowError], None]  # every row error, as it is found


@dataclass
class ImportResult:
    batch: ImportBatch
    dry_run: bool
    rows_read: int
    imported: int
    skipped_existing: int
    rejected: int
    errors: list[RowError]  # the first 10,000 errors in row order (as the batch keeps them)
    error_count: int  # every error; `on_error` saw each of them
    preview: list[dict[str, Any]]
    seconds: dict[str, float]  # check / write / extensions / total, for the benchmark
    notes: list[str] = field(default_factory=list)  # what the registered columns wrote


@dataclass
class Tally:
    """What an import has done so far, kept as the chunks go by."""

    rows_read: int = 0
    imported: int = 0
    skipped_existing: int = 0
    rejected: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extensions_written: set[str] = field(default_factory=set)  # names, for their summaries
    write_seconds: float = 0.0
    extension_seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        return {
            "rows_read": self.rows_read,
            "imported": self.imported,
            "skipped_existing": self.skipped_existing,
            "rejected": self.rejected,
            "error_count": self.error_count,
        }


def may_import(actor: Actor) -> bool:
    """HQ admins and store managers import; the CLI and API act for the merchant itself."""
    return actor.staff is None or actor.role in IMPORT_ROLES


def import_members(
    actor: Actor,
    path_or_file: str | Path | BinaryIO | Any,
    *,
    file_name: str,
    dry_run: bool,
    default_store: Store | str | None = None,
    stored_file: str = "",
    source: ImportBatch | None = None,
    batch: ImportBatch | None = None,
    progress: Progress | None = None,
    on_error: ErrorSink | None = None,
) -> ImportResult:
    """Check a members file and, unless `dry_run`, import its good rows chunk by chunk.

    Raises UnreadableFile or BadColumns when the file as a whole cannot be used (nothing
    imported; nothing recorded unless `batch`, a batch queued beforehand, is given: it is
    marked failed); problems in single rows are reported in the result and to `on_error`.
    """
    if not may_import(actor):
        raise PermissionDenied(_("Only HQ admins and store managers may import members."))
    started = time.perf_counter()
    try:
        with open_source(path_or_file) as stream:
            opened = open_rows(stream, file_name)
            ctx, plan, first_row = prepare_file(actor, opened.rows, default_store)
            batch = start_batch(
                batch,
                actor=actor,
                file_name=file_name,
                dry_run=dry_run,
                default_store=ctx.default_store,
                stored_file=stored_file,
                source=source,
                total=opened.total,
            )
            tally = Tally()
            with sqlite_cache():
                chunks = check_chunks(opened.rows, first_row, plan, ctx)
                for number, chunk in enumerate(chunks, start=1):
                    take_chunk(actor, ctx, chunk, tally, dry_run, on_error)
                    save_progress(batch, tally, opened)
                    if not dry_run and number & (number - 1) == 0:
                        # After chunks 1, 2, 4, 8...: the planner keeps up with the table's
                        # growth for a handful of ANALYZEs.
                        refresh_statistics(Member, *grown_tables(ctx.extensions))
                    if progress is not None:
                        progress(opened.position(), opened.total, tally.rows_read)
                if not dry_run and tally.imported:
                    # The searches' plans read the statistics at once (docs/scale.md, "Search").
                    refresh_statistics(Member, *grown_tables(ctx.extensions))
    except BaseException as problem:
        if batch is not None and batch.pk:
            fail_batch(batch, problem)
        raise
    for name in sorted(tally.extensions_written):
        extension, state = ctx.extensions[name]
        tally.notes += extension.summary(state)
    finish_batch(actor, batch, tally, opened, started)
    return ImportResult(
        batch=batch,
        dry_run=dry_run,
        rows_read=tally.rows_read,
        imported=tally.imported,
        skipped_existing=tally.skipped_existing,
        rejected=tally.rejected,
        errors=tally.errors,
        error_count=tally.error_count,
        preview=tally.preview,
        notes=tally.notes,
        seconds={
            "check": time.perf_counter() - started - tally.write_seconds,
            "write": tally.write_seconds,
            "extensions": tally.extension_seconds,  # part of write: what registered columns wrote
            "total": time.perf_counter() - started,
        },
    )


def take_chunk(
    actor: Actor,
    ctx: ImportContext,
    chunk: CheckedChunk,
    tally: Tally,
    dry_run: bool,
    on_error: ErrorSink | None,
) -> None:
    """Count a checked chunk and, on a real run, insert its good rows (its own transaction)."""
    written = time.perf_counter()
    tally.rows_read += chunk.rows_read
    tally.skipped_existing += chunk.skipped_existing
    tally.rejected += chunk.rejected
    tally.error_count += len(chunk.errors)
    room = MAX_STORED_ERRORS - len(tally.errors)
    if room > 0:
        tally.errors += chunk.errors[:room]
    if on_error is not None:
        for error in chunk.errors:
            on_error(error)
    for number, row in zip(chunk.valid_rows, chunk.valid, strict=True):
        if len(tally.preview) >= PREVIEW_ROWS:
            break
        tally.preview.append(preview_row(number, row, ctx))
    if dry_run:
        tally.imported += len(chunk.valid)
        return
    with transaction.atomic():
        commit_without_waiting_for_disk()  # a re-run brings back what a crash might lose
        imported, raced, extension_seconds, notes = insert_chunk(actor, ctx, chunk, tally)
    tally.imported += imported
    tally.skipped_existing += raced
    tally.extension_seconds += extension_seconds
    tally.notes += notes
    tally.write_seconds += time.perf_counter() - written


@contextlib.contextmanager
def sqlite_cache(kib: int = SQLITE_CACHE_KIB) -> Iterator[None]:
    """A larger SQLite page cache while a file is written: 100,000 members with their cards
    and balances insert over a million index entries, and SQLite's default cache (2 MB) keeps
    re-reading the index pages. PostgreSQL sizes its buffers itself."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        cursor.execute(f"PRAGMA cache_size = -{int(kib)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def preview_row(number: int, row: dict[str, Any], ctx: ImportContext) -> dict[str, Any]:
    """A valid row as the console preview shows it: the mobile masked (F-45); `extra` holds
    what the registered columns show (label -> text)."""
    store = row.get("store")
    birthday = row.get("birthday")
    extra: dict[str, str] = {}
    for name, values in row.get(EXTENSION_VALUES, {}).items():
        extra.update(ctx.extensions[name][0].preview(values))
    return {
        "extra": extra,
        "row": number,
        "mobile": mask_mobile(row["mobile"]),
        "name": row.get("name", ""),
        "gender": str(Gender(row.get("gender", Gender.UNKNOWN)).label),
        "birthday": birthday.isoformat() if birthday else "",
        "store": store.code if store else "",
        "tags": ", ".join(row.get("tags", [])),
    }


def insert_chunk(
    actor: Actor, ctx: ImportContext, chunk: CheckedChunk, tally: Tally
) -> tuple[int, int, float, list[str]]:
    """Insert a chunk's valid rows; the caller holds the transaction. Returns how many were
    new, how many were registered meanwhile (skipped), the seconds the registered columns'
    writes took and their lines for the summary.

    A mobile registered on a till since the chunk was checked fails the insert on the unique
    index: those rows are skipped and the rest inserted again. A fresh random referral code
    that meets an existing one heals on the next attempt too.
    """
    rows = list(zip(chunk.valid_rows, chunk.valid, strict=True))
    raced = 0
    for attempt in range(1, INSERT_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                member_ids, _cards = bulk_insert_members(
                    actor, [row for _number, row in rows], channel=Channel.IMPORT
                )
                extensions_started = time.perf_counter()
                notes, written = run_extensions(actor, ctx.extensions, rows, member_ids)
            tally.extensions_written |= written
            return len(rows), raced, time.perf_counter() - extensions_started, notes
        except IntegrityError:
            taken = registered_among(actor, [row["mobile"] for _number, row in rows])
            if attempt == INSERT_ATTEMPTS:
                raise Conflict(
                    _("Members were registered while the file was being imported; run it again."),
                    "import_conflict",
                ) from None
            raced += sum(1 for _number, row in rows if row["mobile"] in taken)
            rows = [(number, row) for number, row in rows if row["mobile"] not in taken]
    return 0, raced, 0.0, []  # unreachable: the loop returns or raises


def grown_tables(extensions: dict[str, tuple[ImportExtension, Any]]) -> list[type[Model]]:
    """The tables the file's extensions fill in bulk (`ImportExtension.grows`)."""
    return [table for extension, _state in extensions.values() for table in extension.grows]


def run_extensions(
    actor: Actor,
    extensions: dict[str, tuple[ImportExtension, Any]],
    rows: list[tuple[int, dict[str, Any]]],
    member_ids: list[int],
) -> tuple[list[str], set[str]]:
    """Each registered extension writes what its columns carry for the chunk's new members,
    in the chunk's transaction (cards, tiers, opening balances); returns their lines and the
    names of those that wrote."""
    notes: list[str] = []
    written: set[str] = set()
    for name, (extension, state) in extensions.items():
        imported = [
            Imported(member_id, number, row[EXTENSION_VALUES][name])
            for (number, row), member_id in zip(rows, member_ids, strict=True)
            if name in row.get(EXTENSION_VALUES, {})
        ]
        if imported:
            notes += extension.after_insert(actor, state, imported)
            written.add(name)
    return notes, written


def start_batch(
    batch: ImportBatch | None,
    *,
    actor: Actor,
    file_name: str,
    dry_run: bool,
    default_store: Store | None,
    stored_file: str,
    source: ImportBatch | None,
    total: int,
) -> ImportBatch:
    """The batch the import records its progress on: the one queued for it, or a new one."""
    if batch is not None:
        batch.status, batch.bytes_total = ImportStatus.RUNNING, total
        batch.default_store = default_store
        batch.save(update_fields=["status", "bytes_total", "default_store"])
        return batch
    return ImportBatch.objects.create(
        merchant=actor.merchant,
        file_name=file_name[:255],
        dry_run=dry_run,
        channel=actor.channel,
        default_store=default_store,
        stored_file=stored_file,
        source=source,
        status=ImportStatus.RUNNING,
        bytes_total=total,
        created_by=actor.user,
    )


def save_progress(batch: ImportBatch, tally: Tally, opened: OpenedFile) -> None:
    """The counts so far, for the page that polls them (committed with the chunk's rows)."""
    ImportBatch.objects.filter(pk=batch.pk).update(bytes_read=opened.position(), **tally.counts())


def finish_batch(
    actor: Actor, batch: ImportBatch, tally: Tally, opened: OpenedFile, started: float
) -> None:
    """The batch's final counts, first errors and preview, with the audit entry of a real run."""
    for name, value in tally.counts().items():
        setattr(batch, name, value)
    batch.sha256 = opened.digest()
    batch.errors = [error.as_dict() for error in tally.errors]
    batch.preview = tally.preview
    batch.bytes_read = opened.total
    batch.status = ImportStatus.DONE
    batch.duration_ms = int((time.perf_counter() - started) * 1000)
    with transaction.atomic():
        batch.save()
        if not batch.dry_run:
            summary = batch_summary(batch)
            audit(actor, AuditEntry.Action.IMPORT, batch, summary, label=batch.file_name)


def fail_batch(batch: ImportBatch, problem: BaseException) -> None:
    """Mark an import that stopped part way: what it committed stays, re-running finishes."""
    if isinstance(problem, DomainError):
        why = str(problem.detail)
    elif isinstance(problem, KeyboardInterrupt):
        why = _("The import was interrupted.")
    else:
        why = _("The import stopped on an unexpected problem: %s") % type(problem).__name__
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.FAILED, failure=why)
    batch.status, batch.failure = ImportStatus.FAILED, why


def batch_summary(batch: ImportBatch) -> dict[str, list[Any]]:
    """The audit entry's changes, in the log's usual {field: [before, after]} shape."""
    return {
        name: [None, getattr(batch, name)]
        for name in ("file_name", "sha256", "rows_read", "imported", "skipped_existing", "rejected")
    }
