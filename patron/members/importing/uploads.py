"""Console uploads: keep the previewed file, import exactly that file on confirmation, purge.

The console previews an upload as a dry run, keeps the file, and imports exactly that file
(checked by its SHA-256) when the operator confirms. The file holds personal data, so it is
deleted as soon as it has been imported, or by `purge_stale_uploads` when nobody confirms it.
A confirmation and the purge both claim the file by clearing `stored_file` where it still names
it, so two confirmations, or a confirmation and the purge, never import a file twice or half.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.core.errors import Conflict, DomainError, PermissionDenied
from patron.members.importing.errors import UnreadableFile
from patron.members.importing.reading import MAX_UPLOAD_BYTES, too_large_message
from patron.members.importing.service import ImportResult, import_members, may_import
from patron.members.models import ImportBatch, ImportStatus
from patron.members.selectors import import_confirmation
from patron.tenancy.actor import Actor
from patron.tenancy.models import Staff, Store

UPLOAD_SUFFIXES = (".xlsx", ".xlsm", ".csv", ".txt", ".tsv")
# How long a previewed upload waits for its confirmation before it is deleted.
UPLOAD_KEPT_FOR = dt.timedelta(hours=24)


def upload_dir() -> Path:
    return Path(settings.DATA_DIR) / "imports"


def stored_path(batch: ImportBatch) -> Path:
    return upload_dir() / batch.stored_file


def save_upload(actor: Actor, upload: Any) -> str:
    """Save an uploaded file under DATA_DIR/imports/<merchant>/; returns its relative path."""
    if upload.size > MAX_UPLOAD_BYTES:
        raise UnreadableFile(too_large_message())
    suffix = Path(upload.name or "").suffix.lower()
    # The stored name is ours: an uploaded name must never choose where a file is written.
    relative = (
        f"{actor.merchant.pk}/{uuid.uuid4().hex}{suffix if suffix in UPLOAD_SUFFIXES else ''}"
    )
    path = upload_dir() / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as stream:
        for chunk in upload.chunks():
            stream.write(chunk)
    return relative


def purge_stale_uploads(now: dt.datetime | None = None) -> int:
    """Delete console uploads previewed but not confirmed within UPLOAD_KEPT_FOR; how many.

    They hold members' mobiles and names. Each file is claimed the way `confirm_import`
    claims it (clearing `stored_file` where it still names the file), so a confirmation
    racing the purge either imports the file or finds it gone, never half of each.
    """
    cutoff = (now or timezone.now()) - UPLOAD_KEPT_FOR
    stale = (
        ImportBatch.objects.filter(dry_run=True, created_at__lt=cutoff)
        .exclude(stored_file="")
        .values_list("pk", "stored_file")
    )
    purged = 0
    for batch_id, relative in list(stale):
        if ImportBatch.objects.filter(pk=batch_id, stored_file=relative).update(stored_file=""):
            (upload_dir() / relative).unlink(missing_ok=True)
            purged += 1
    return purged


def preview_upload(actor: Actor, upload: Any, default_store: Store | None) -> ImportResult:
    """Save the upload and dry-run it; a file that cannot be used at all is not kept."""
    if not may_import(actor):
        raise PermissionDenied(_("Only HQ admins and store managers may import members."))
    relative = save_upload(actor, upload)
    try:
        return import_members(
            actor,
            upload_dir() / relative,
            file_name=Path(upload.name or "upload").name,
            dry_run=True,
            default_store=default_store,
            stored_file=relative,
        )
    except BaseException:
        (upload_dir() / relative).unlink(missing_ok=True)
        raise


def confirm_import(actor: Actor, preview: ImportBatch) -> ImportBatch:
    """Queue the import of the file a dry run checked and return its batch, whose page shows
    how far it has got; confirming twice returns the first import.

    A big file takes minutes, longer than a request should: the job `run_confirmed_import`
    imports it (members.tasks), recording its progress on the batch.
    """
    done = import_confirmation(preview)
    if done is not None:
        return done
    if not preview.dry_run:
        raise Conflict(_("This import has already run."), "import_done")
    if not may_import(actor):
        raise PermissionDenied(_("Only HQ admins and store managers may import members."))
    relative = preview.stored_file
    # Claim the file atomically so a double-clicked confirm cannot import it twice at once.
    claimed = bool(relative) and ImportBatch.objects.filter(
        pk=preview.pk, stored_file=relative
    ).update(stored_file="")
    if not claimed:
        raise Conflict(
            _("This file is being imported or is no longer available: upload it again."),
            "import_unavailable",
        )
    path = upload_dir() / relative
    if not path.is_file() or file_sha256(path) != preview.sha256:
        give_back(preview, relative)
        raise Conflict(
            _("The uploaded file is no longer the one checked: upload it again."),
            "import_unavailable",
        )
    # The new batch holds the file now (the purge only looks at dry runs).
    batch = ImportBatch.objects.create(
        merchant=preview.merchant,
        file_name=preview.file_name,
        sha256=preview.sha256,
        dry_run=False,
        channel=actor.channel,
        default_store=preview.default_store,
        stored_file=relative,
        source=preview,
        status=ImportStatus.QUEUED,
        bytes_total=path.stat().st_size,
        created_by=actor.user,
    )
    from patron.members.tasks import import_confirmed_upload  # the job module imports this one

    import_confirmed_upload(batch.pk)
    batch.refresh_from_db()  # the job may have run already (a worker, or jobs run inline)
    return batch


def run_confirmed_import(batch_id: int) -> ImportBatch | None:
    """The job's work: import a confirmed upload as the staff member who confirmed it. On
    success the file is deleted; when the import stops part way the file goes back to the
    preview, so the operator can confirm again and finish (imported rows are skipped)."""
    batch = ImportBatch.objects.select_related("source", "default_store").get(pk=batch_id)
    if batch.status != ImportStatus.QUEUED:
        return None  # run already (a job delivered twice)
    relative, path = batch.stored_file, upload_dir() / batch.stored_file
    try:
        import_members(
            confirming_actor(batch),
            path,
            file_name=batch.file_name,
            dry_run=False,
            default_store=batch.default_store,
            source=batch.source,
            batch=batch,
        )
    except DomainError:
        # Recorded on the batch (its page says why); the job itself did its work.
        stop_holding(batch, relative)
        batch.refresh_from_db()
        return batch
    except BaseException:
        stop_holding(batch, relative)
        raise
    ImportBatch.objects.filter(pk=batch.pk).update(stored_file="")
    path.unlink(missing_ok=True)
    batch.refresh_from_db()
    return batch


def confirming_actor(batch: ImportBatch) -> Actor:
    """The staff member who confirmed the import, as the console knows them (their role and
    store still decide what they may import)."""
    staff = (
        Staff.objects.select_related("user", "store", "merchant")
        .filter(merchant=batch.merchant, user=batch.created_by)
        .first()
    )
    if staff is None or not staff.user.is_active:
        raise PermissionDenied(_("Only HQ admins and store managers may import members."))
    return Actor(merchant=staff.merchant, staff=staff, channel=batch.channel)


def stop_holding(batch: ImportBatch, relative: str) -> None:
    """An import that stopped part way hands its file back to the preview it confirmed."""
    ImportBatch.objects.filter(pk=batch.pk).update(stored_file="")
    if batch.source is not None:
        give_back(batch.source, relative)


def give_back(preview: ImportBatch, relative: str) -> None:
    """Return the file to its preview, so the operator can confirm again after a problem."""
    ImportBatch.objects.filter(pk=preview.pk).update(stored_file=relative)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()
