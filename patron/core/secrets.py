"""The secret key: from PATRON_SECRET_KEY, else generated once and kept in the data directory.

Imported by `patron/settings.py` before Django is set up, so it needs nothing of Django's
settings. The key signs sessions, CSRF tokens and member QR codes and keys the encryption of
ID numbers at rest (`patron.core.fields`): a key anyone can read in the source would let
anyone mint a QR token for any member, so there is no constant to fall back on.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

KEY_FILE = "secret_key"
# Enough entropy for Django's signing and for Fernet key derivation (sha256 of the key).
KEY_BYTES = 48
MIN_KEY_LENGTH = 32

# The development key Patron shipped in settings.py before keys were generated. Installs that
# never set PATRON_SECRET_KEY encrypted ID numbers under it, so `patron.core.fields` still
# *decrypts* with it (until `patron reencrypt` moves them to the current key); nothing is
# signed or encrypted with it, and it is never a SECRET_KEY_FALLBACKS entry, so QR tokens and
# sessions signed with it are refused.
LEGACY_DEVELOPMENT_KEY = "patron-dev-insecure-change-me-in-production"


def secret_key(data_dir: Path, environ: Mapping[str, str]) -> str:
    """PATRON_SECRET_KEY when set, else the key in `data_dir/secret_key` (created if absent)."""
    configured = environ.get("PATRON_SECRET_KEY", "").strip()
    key = configured or key_in(data_dir)
    refuse_legacy(key, "PATRON_SECRET_KEY")
    return key


def fallback_keys(environ: Mapping[str, str]) -> list[str]:
    """Earlier keys still accepted for signatures and decryption, newest first (rotation)."""
    keys = [key.strip() for key in environ.get("PATRON_SECRET_KEY_FALLBACKS", "").split(",")]
    keys = [key for key in keys if key]
    for key in keys:
        refuse_legacy(key, "PATRON_SECRET_KEY_FALLBACKS")
    return keys


def refuse_legacy(key: str, variable: str) -> None:
    if key == LEGACY_DEVELOPMENT_KEY:
        raise ImproperlyConfigured(
            f"{variable} holds the development key published in Patron's source: anyone could "
            "sign member QR codes with it. Unset it (a random key is then generated in the "
            "data directory) or set a key of your own."
        )


def key_in(data_dir: Path) -> str:
    """The key stored in `data_dir`, creating it on first start.

    The key is written to a temporary file (mode 0600) and hard-linked into place: the link
    fails if the file exists, so two processes starting together both end up with the one key
    that won, and no process ever reads a half-written file.
    """
    path = data_dir / KEY_FILE
    with contextlib.suppress(FileNotFoundError):
        return read_key(path)
    data_dir.mkdir(parents=True, exist_ok=True)
    candidate = secrets.token_urlsafe(KEY_BYTES)
    descriptor, temporary = tempfile.mkstemp(dir=data_dir, prefix=".secret_key-")  # mode 0600
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(candidate + "\n")
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process was first: use its key
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return read_key(path)


def read_key(path: Path) -> str:
    key = path.read_text().strip()
    if len(key) < MIN_KEY_LENGTH:
        raise ImproperlyConfigured(
            f"{path} holds no usable secret key (fewer than {MIN_KEY_LENGTH} characters). "
            "Restore it from a backup, or set PATRON_SECRET_KEY."
        )
    return key
