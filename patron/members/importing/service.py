"""The import itself: check a members file, record its batch and, unless a dry run, insert it.

`import_members` is the one service the CLI, the console and the API share. A dry run records
its batch too (the console previews a dry run and the operator confirms that very batch). A
real run inserts the good rows with `bulk_insert_members` (then what the columns registered from
above carry, `extensions`) in one transaction with the batch and its
audit entry; rows whose mobile is already a member's are skipped, so re-running a file is safe.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from patron.core.errors import Conflict, PermissionDenied
from patron.members.importing.checks import EXTENSION_VALUES, CheckedRows, check_file
from patron.members.importing.errors import RowError
from patron.members.importing.extensions import Imported
from patron.members.importing.reading import read_bytes
from patron.members.models import Channel, Gender, ImportBatch
from patron.members.selectors import registered_mobiles
from patron.members.services import bulk_insert_members
from patron.members.validation import mask_mobile
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Role, Store
from patron.tenancy.services import audit

MAX_STORED_ERRORS = 10_000  # the batch keeps this many; the CLI report gets every one
PREVIEW_ROWS = 20
INSERT_CHUNK = 10_000  # rows per bulk_register call: bounds memory, same transaction
INSERT_ATTEMPTS = 3  # a random referral code may collide with an existing one: retry
IMPORT_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER)
SQLITE_CACHE_KIB = 256 * 1024  # while writing a file (see sqlite_cache); grown only as used


@dataclass
class ImportResult:
    batch: ImportBatch
    dry_run: bool
    rows_read: int
    imported: int
    skipped_existing: int
    rejected: int
    errors: list[RowError]  # every error, in row order (the batch keeps the first 10,000)
    preview: list[dict[str, Any]]
    seconds: dict[str, float]  # read+check / write / total, for the benchmark and the logs
    notes: list[str] = field(default_factory=list)  # what the registered columns wrote


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
) -> ImportResult:
    """Check a members file and, unless `dry_run`, import its good rows in one transaction.

    Raises UnreadableFile or BadColumns (nothing imported, nothing recorded) when the file as a
    whole cannot be used; problems in single rows are reported in the result instead.
    """
    if not may_import(actor):
        raise PermissionDenied(_("Only HQ admins and store managers may import members."))
    started = time.perf_counter()
    data = read_bytes(path_or_file)
    ctx, checked = check_file(actor, data, file_name, default_store)
    checked_at = time.perf_counter()
    preview = [
        preview_row(number, row, checked)
        for number, row in zip(checked.valid_rows[:PREVIEW_ROWS], checked.valid, strict=False)
    ]
    common = {
        "actor": actor,
        "file_name": file_name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "default_store": ctx.default_store,
        "checked": checked,
        "preview": preview,
        "stored_file": stored_file,
        "source": source,
    }
    extension_seconds, notes = 0.0, []
    if dry_run:
        imported = len(checked.valid)
        batch = record_batch(**common, dry_run=True, imported=imported, started=started)
    else:
        with transaction.atomic(), sqlite_cache():
            imported, extension_seconds, notes = insert_members(actor, checked)
            batch = record_batch(**common, dry_run=False, imported=imported, started=started)
            audit(actor, AuditEntry.Action.IMPORT, batch, batch_summary(batch), label=file_name)
    finished = time.perf_counter()
    return ImportResult(
        batch=batch,
        dry_run=dry_run,
        rows_read=checked.rows_read,
        imported=imported,
        skipped_existing=batch.skipped_existing,
        rejected=checked.rejected,
        errors=checked.errors,
        preview=preview,
        notes=notes,
        seconds={
            "check": checked_at - started,
            "write": finished - checked_at,
            "extensions": extension_seconds,  # part of write: what registered columns wrote
            "total": finished - started,
        },
    )


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


def preview_row(number: int, row: dict[str, Any], checked: CheckedRows) -> dict[str, Any]:
    """A valid row as the console preview shows it: the mobile masked (F-45); `extra` holds
    what the registered columns show (label -> text)."""
    store = row.get("store")
    birthday = row.get("birthday")
    extra: dict[str, str] = {}
    for name, values in row.get(EXTENSION_VALUES, {}).items():
        extra.update(checked.extensions[name][0].preview(values))
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


def insert_members(actor: Actor, checked: CheckedRows) -> tuple[int, float, list[str]]:
    """Insert the valid rows; the caller holds the transaction. Returns how many were new, the
    seconds the registered columns' writes took and their lines for the summary.

    Checking ran outside the transaction (so a big file does not hold SQLite's write lock
    while it is parsed); members registered meanwhile are skipped here, not duplicated.
    """
    taken = registered_mobiles(actor)
    fresh = [row for row in checked.valid if row["mobile"] not in taken]
    checked.skipped_existing += len(checked.valid) - len(fresh)
    numbers = {id(row): n for row, n in zip(checked.valid, checked.valid_rows, strict=True)}
    for attempt in range(1, INSERT_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                member_ids: list[int] = []
                for start in range(0, len(fresh), INSERT_CHUNK):
                    ids, _cards = bulk_insert_members(
                        actor, fresh[start : start + INSERT_CHUNK], channel=Channel.IMPORT
                    )
                    member_ids += ids
                extensions_started = time.perf_counter()
                notes = run_extensions(actor, checked, fresh, member_ids, numbers)
            return len(fresh), time.perf_counter() - extensions_started, notes
        except IntegrityError:
            # Either a mobile was registered on a till after our re-check (PostgreSQL allows
            # it), or a fresh random referral code met an existing one: only the latter heals.
            raced = registered_mobiles(actor) & {row["mobile"] for row in fresh}
            if raced or attempt == INSERT_ATTEMPTS:
                raise Conflict(
                    _("Members were registered while the file was being imported; run it again."),
                    "import_conflict",
                ) from None
    return 0, 0.0, []  # unreachable: the loop returns or raises


def run_extensions(
    actor: Actor,
    checked: CheckedRows,
    rows: list[dict[str, Any]],
    member_ids: list[int],
    numbers: dict[int, int],
) -> list[str]:
    """Each registered extension writes what its columns carry for the new members, in the
    import's transaction (cards, tiers, opening balances); returns their summary lines."""
    notes: list[str] = []
    for name, (extension, state) in checked.extensions.items():
        imported = [
            Imported(member_id, numbers[id(row)], row[EXTENSION_VALUES][name])
            for row, member_id in zip(rows, member_ids, strict=True)
            if name in row.get(EXTENSION_VALUES, {})
        ]
        if imported:
            notes += extension.after_insert(actor, state, imported)
    return notes


def record_batch(
    *,
    actor: Actor,
    file_name: str,
    sha256: str,
    default_store: Store | None,
    checked: CheckedRows,
    preview: list[dict[str, Any]],
    stored_file: str,
    source: ImportBatch | None,
    dry_run: bool,
    imported: int,
    started: float,
) -> ImportBatch:
    return ImportBatch.objects.create(
        merchant=actor.merchant,
        file_name=file_name[:255],
        sha256=sha256,
        dry_run=dry_run,
        channel=actor.channel,
        default_store=default_store,
        rows_read=checked.rows_read,
        imported=imported,
        skipped_existing=checked.skipped_existing,
        rejected=checked.rejected,
        error_count=len(checked.errors),
        errors=[e.as_dict() for e in checked.errors[:MAX_STORED_ERRORS]],
        preview=preview,
        stored_file=stored_file,
        source=source,
        duration_ms=int((time.perf_counter() - started) * 1000),
        created_by=actor.user,
    )


def batch_summary(batch: ImportBatch) -> dict[str, list[Any]]:
    """The audit entry's changes, in the log's usual {field: [before, after]} shape."""
    return {
        name: [None, getattr(batch, name)]
        for name in ("file_name", "sha256", "rows_read", "imported", "skipped_existing", "rejected")
    }
