"""Encrypted model field for personal data at rest (F-45), Fernet keyed from the secret key."""

from __future__ import annotations

import base64
import functools
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models


@functools.cache
def _fernet(secret: str) -> Fernet:
    key = hashlib.sha256(("patron-field-encryption:" + secret).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(value: str) -> str:
    return _fernet(settings.SECRET_KEY).encrypt(value.encode()).decode()


class Undecryptable(str):
    """A value encrypted under another secret key (PATRON_SECRET_KEY changed).

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
    try:
        return _fernet(settings.SECRET_KEY).decrypt(token.encode()).decode()
    except InvalidToken:
        return Undecryptable(token)


class EncryptedCharField(models.TextField):
    """Stores Fernet ciphertext; Python code sees the plain text. Not searchable by design."""

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else ""

    def get_prep_value(self, value):
        if isinstance(value, Undecryptable):
            return value.token
        value = super().get_prep_value(value)
        return encrypt(value) if value else ""
