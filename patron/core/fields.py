"""Encrypted model field for personal data at rest (F-45), Fernet keyed from the secret key.

Encrypts under SECRET_KEY; decrypts under SECRET_KEY, SECRET_KEY_FALLBACKS and the old
development key, so rotating the key (docs/operations.md, "Keys") loses nothing, and
`patron reencrypt` then moves every value to the current key.
"""

from __future__ import annotations

import base64
import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

from patron.core.secrets import LEGACY_DEVELOPMENT_KEY


@functools.cache
def _fernet(secret: str) -> Fernet:
    key = hashlib.sha256(("patron-field-encryption:" + secret).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


@functools.cache
def _decrypter(secret: str, fallbacks: tuple[str, ...]) -> MultiFernet:
    """Tries the current key, then each fallback (a rotation in progress), then the old
    development key: installs that never set PATRON_SECRET_KEY encrypted ID numbers under it,
    and those must stay readable until `patron reencrypt` moves them to the current key."""
    keys = dict.fromkeys((secret, *fallbacks, LEGACY_DEVELOPMENT_KEY))  # in order, no repeats
    return MultiFernet([_fernet(key) for key in keys])


def current_fernet() -> Fernet:
    """Everything is encrypted under the current key only (never a fallback or the old one)."""
    return _fernet(settings.SECRET_KEY)


def encrypt(value: str) -> str:
    return current_fernet().encrypt(value.encode()).decode()


class Undecryptable(str):
    """A value encrypted under a secret key Patron no longer has (PATRON_SECRET_KEY changed
    and the old key is not among PATRON_SECRET_KEY_FALLBACKS).

    It reads as "" so nothing shows or validates it, but it keeps its ciphertext, and saving
    the row writes that ciphertext back unchanged: restoring the old key restores the data,
    instead of the next save of the member erasing it.
    """

    token: str

    def __new__(cls, token: str) -> Undecryptable:
        value = super().__new__(cls, "")
        value.token = token
        return value


def decrypt(token: str) -> str:
    decrypter = _decrypter(settings.SECRET_KEY, tuple(settings.SECRET_KEY_FALLBACKS))
    try:
        return decrypter.decrypt(token.encode()).decode()
    except InvalidToken:
        return Undecryptable(token)


def is_current(token: str) -> bool:
    """Whether `token` is encrypted under the current key (nothing to re-encrypt)."""
    try:
        current_fernet().decrypt(token.encode())
    except InvalidToken:
        return False
    return True


class EncryptedCharField(models.TextField):
    """Stores Fernet ciphertext; Python code sees the plain text. Not searchable by design."""

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else ""

    def get_prep_value(self, value):
        if isinstance(value, Undecryptable):
            return value.token
        value = super().get_prep_value(value)
        return encrypt(value) if value else ""
