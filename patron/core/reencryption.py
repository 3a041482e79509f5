"""Move every encrypted value to the current secret key (after a rotation, or off the old
development key). Generic: every EncryptedCharField of every installed model, found through
django.apps, so an app that adds one needs nothing here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.apps import apps
from django.db import connection, models, transaction

from patron.core.fields import EncryptedCharField, Undecryptable, decrypt, encrypt, is_current

DEFAULT_BATCH_SIZE = 500


@dataclass
class FieldReport:
    """What happened to one model field's stored values."""

    label: str  # "members.Member.id_number"
    reencrypted: int = 0
    current: int = 0  # already under the current key (or changed by the app meanwhile)
    unreadable: int = 0  # under no key Patron has: left exactly as they are

    def __str__(self) -> str:
        return (
            f"{self.label}: {self.reencrypted} re-encrypted, {self.current} already current, "
            f"{self.unreadable} unreadable"
        )


def encrypted_fields() -> Iterator[tuple[type[models.Model], EncryptedCharField]]:
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedCharField):
                yield model, field


def reencrypt_all(batch_size: int = DEFAULT_BATCH_SIZE) -> list[FieldReport]:
    return [reencrypt_field(model, field, batch_size) for model, field in encrypted_fields()]


def reencrypt_field(
    model: type[models.Model], field: EncryptedCharField, batch_size: int = DEFAULT_BATCH_SIZE
) -> FieldReport:
    meta = model._meta
    report = FieldReport(f"{meta.app_label}.{meta.object_name}.{field.name}")
    last_pk = None
    while True:
        rows = _stored_tokens(model, field, last_pk, batch_size)
        if not rows:
            return report
        with transaction.atomic():
            for pk, token in rows:
                _reencrypt_one(model, field, pk, token, report)
        last_pk = rows[-1][0]


def _stored_tokens(
    model: type[models.Model], field: EncryptedCharField, after_pk, limit: int
) -> list[tuple]:
    """The ciphertext as stored (the ORM would decrypt it), one batch in primary-key order."""
    quote = connection.ops.quote_name
    table, pk, column = (
        quote(model._meta.db_table),
        quote(model._meta.pk.column),
        quote(field.column),
    )
    where = f"{column} <> ''" + (f" AND {pk} > %s" if after_pk is not None else "")
    params = [after_pk] if after_pk is not None else []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {pk}, {column} FROM {table} WHERE {where} ORDER BY {pk} LIMIT %s",
            [*params, limit],
        )
        return cursor.fetchall()


def _reencrypt_one(
    model: type[models.Model], field: EncryptedCharField, pk, token: str, report: FieldReport
) -> None:
    if is_current(token):
        report.current += 1
        return
    plain = decrypt(token)
    if isinstance(plain, Undecryptable):
        report.unreadable += 1
        return
    quote = connection.ops.quote_name
    table, pk_column, column = (
        quote(model._meta.db_table),
        quote(model._meta.pk.column),
        quote(field.column),
    )
    # Compare-and-swap: a row the app rewrote since we read it already holds a value under
    # the current key, and must not be overwritten with the older one.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = %s WHERE {pk_column} = %s AND {column} = %s",
            [encrypt(plain), pk, token],
        )
        swapped = cursor.rowcount == 1
    if swapped:
        report.reencrypted += 1
    else:
        report.current += 1
