"""Audit entries as people read them: who, where, and each change as old → new.

The audit log stores raw field names and values (`{"store_id": [3, 5]}`); the console shows
the field's label, choice labels, store names and yes/no instead.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from patron.core.text import ascii_digits
from patron.tenancy.models import AuditEntry, Merchant, Store

# Keys services write that are not model fields.
EXTRA_LABELS = {
    "tags": gettext_lazy("tags"),
    "password": gettext_lazy("password"),
    "revoked": gettext_lazy("revoked"),
    "username": gettext_lazy("user name"),
    "store": gettext_lazy("store"),
    "locked_until": gettext_lazy("locked until"),
    "failed_logins": gettext_lazy("failed log-ins"),
}
# Keys whose values are ISO times: shown in the page's zone (the merchant's), to the minute.
TIME_KEYS = {"locked_until"}
CHANNEL_LABELS = {
    "console": gettext_lazy("Console"),
    "api": gettext_lazy("API"),
    "cli": gettext_lazy("Command line"),
}
EMPTY = "—"


@dataclass(frozen=True)
class ShownChange:
    field: str
    old: str
    new: str

    @property
    def has_old(self) -> bool:
        return self.old != EMPTY


@dataclass(frozen=True)
class ShownEntry:
    entry: AuditEntry
    who: str
    where: str
    channel: str
    object_label: str
    changes: list[ShownChange]
    member_id: int | None


@functools.cache
def model_for(object_type: str) -> type[Model] | None:
    """The Patron model whose `model_name` an audit entry recorded."""
    for model in apps.get_models():
        if model._meta.model_name == object_type and model.__module__.startswith("patron."):
            return model
    return None


def object_type_label(object_type: str) -> str:
    model = model_for(object_type)
    return str(model._meta.verbose_name) if model else object_type


def model_field(model: type[Model] | None, key: str):
    if model is None:
        return None
    for name in (key, key.removesuffix("_id")):
        try:
            return model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
    return None


def field_label(model: type[Model] | None, key: str) -> str:
    field = model_field(model, key)
    if field is not None and hasattr(field, "verbose_name"):
        return str(field.verbose_name)
    return str(EXTRA_LABELS.get(key, key))


def show_time(value: Any) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return show_value(value)
    return date_format(timezone.localtime(moment), "Y-m-d H:i")


def show_value(value: Any, field=None, stores: dict[str, str] | None = None) -> str:
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(show_value(v, field, stores) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {show_value(v)}" for k, v in value.items())
    if stores is not None:
        return stores.get(str(value), str(value))
    choices = dict(field.flatchoices) if field is not None and field.choices else {}
    return str(choices.get(value, value))


def shown_changes(entry: AuditEntry, stores: StoreNames) -> list[ShownChange]:
    if not isinstance(entry.changes, dict):
        return []
    model = model_for(entry.object_type)
    rows = []
    for key, change in entry.changes.items():
        field = model_field(model, key)
        names = stores.for_key(key) if getattr(field, "related_model", None) is Store else None
        if isinstance(change, list) and len(change) == 2:
            old, new = change
        else:
            old, new = None, change
        show = (
            show_time
            if key in TIME_KEYS
            else functools.partial(show_value, field=field, stores=names)
        )
        rows.append(ShownChange(field=field_label(model, key), old=show(old), new=show(new)))
    return rows


def who(entry: AuditEntry) -> str:
    if entry.user is not None:
        return entry.user.get_full_name() or entry.user.get_username()
    if entry.api_key is not None:
        return _("API key “%(name)s”") % {"name": entry.api_key.name}
    if entry.channel == "cli":
        return _("System (command line)")
    return _("System")


@dataclass(frozen=True)
class StoreNames:
    """Store names by pk (`store_id` changes) and by code (`store` changes)."""

    by_pk: dict[str, str]
    by_code: dict[str, str]

    @classmethod
    def of(cls, merchant: Merchant) -> StoreNames:
        rows = Store.objects.filter(merchant=merchant).values_list("pk", "code", "name")
        return cls(
            by_pk={str(pk): name for pk, _code, name in rows},
            by_code={code: name for _pk, code, name in rows},
        )

    def for_key(self, key: str) -> dict[str, str]:
        return self.by_pk if key.endswith("_id") else self.by_code


def present_entries(entries: Iterable[AuditEntry], merchant: Merchant) -> list[ShownEntry]:
    names = StoreNames.of(merchant)
    return [
        ShownEntry(
            entry=entry,
            who=who(entry),
            where=entry.store.name if entry.store_id else _("HQ"),
            channel=str(CHANNEL_LABELS.get(entry.channel, entry.channel)),
            object_label=object_type_label(entry.object_type),
            changes=shown_changes(entry, names),
            member_id=int(entry.object_id)
            if entry.object_type == "member" and ascii_digits(entry.object_id, fullwidth=False)
            else None,
        )
        for entry in entries
    ]
