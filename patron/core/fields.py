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


def decrypt(token: str) -> str:
    try:
        return _fernet(settings.SECRET_KEY).decrypt(token.encode()).decode()
    except InvalidToken:
        return ""


class EncryptedCharField(models.TextField):
    """Stores Fernet ciphertext; Python code sees the plain text. Not searchable by design."""

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else ""

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else ""
