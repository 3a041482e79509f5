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

from patron.core.errors import Conflict, PermissionDenied
from patron.members.importing.errors import UnreadableFile
from patron.members.importing.reading import MAX_FILE_BYTES, too_large_message
from patron.members.importing.service import ImportResult, import_members, may_import
from patron.members.models import ImportBatch
from patron.members.selectors import import_confirmation
from patron.tenancy.actor import Actor
from patron.tenancy.models import Store

UPLOAD_SUFFIXES = (".xlsx", ".xlsm", ".csv", ".txt", ".tsv")
# How long a previewed upload waits for its confirmation before it is deleted.
UPLOAD_KEPT_FOR = dt.timedelta(hours=24)


def upload_dir() -> Path:
    return Path(settings.DATA_DIR) / "imports"


def stored_path(batch: ImportBatch) -> Path:
    return upload_dir() / batch.stored_file


def save_upload(actor: Actor, upload: Any) -> str:
    """Save an uploaded file under DATA_DIR/imports/<merchant>/; returns its relative path."""
    if upload.size > MAX_FILE_BYTES:
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
    """Import the file a dry run checked; confirming twice returns the first import."""
    done = import_confirmation(preview)
    if done is not None:
        return done
    if not preview.dry_run:
        raise Conflict(_("This import has already run."), "import_done")
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
    try:
        if not path.is_file() or file_sha256(path) != preview.sha256:
            raise Conflict(
                _("The uploaded file is no longer the one checked: upload it again."),
                "import_unavailable",
            )
        result = import_members(
            actor,
            path,
            file_name=preview.file_name,
            dry_run=False,
            default_store=preview.default_store,
            source=preview,
        )
    except BaseException:
        # Give the file back, so the operator can confirm again after a passing problem.
        ImportBatch.objects.filter(pk=preview.pk).update(stored_file=relative)
        raise
    path.unlink(missing_ok=True)
    return result.batch


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()
