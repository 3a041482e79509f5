"""Audit entries as people read them: who, where, a sentence saying what was done, and each
change as old → new.

The audit log stores raw field names and values (`{"store_id": [3, 5]}`, `{"tier": ["normal",
"silver"]}`, ISO times); the console shows the field's label, choice labels, store, tier and
member names, yes/no and times in the merchant's zone instead. Tenancy knows only its own
tables, so the apps above it register what they audit from their AppConfig.ready():

- `add_sentence(object_type, action, text, when=key)`: the sentence for an entry ("Issued
  coupon %(template)s to %(member)s"), formatted with `object` (the object's name) and the new
  value of each change; with `when`, only for entries that change that key (a member's tier);
- `add_object_names(object_type, names)`: the display names of objects by id (a member's name
  rather than the card number the entry recorded);
- `add_value_names(key, names)`: the display names of a change's values (tier codes -> tier
  names, card numbers -> members), loaded once for a page of entries;
- `add_object_type(object_type, label)`: the name of a kind of object whose model has none.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from patron.core.money import yuan
from patron.core.text import ascii_digits
from patron.tenancy.models import AuditEntry, Merchant, Staff, Store

if TYPE_CHECKING:
    from django.utils.functional import Promise

Names = Callable[[Merchant, set[str]], dict[str, str]]

# Labels of the keys services write, before the model field's own: several are not fields
# (`tags`, `password`, `count`), and fields declared without a translated verbose name would
# show their raw attribute name.
KEY_LABELS = {
    "tags": gettext_lazy("tags"),
    "password": gettext_lazy("password"),
    "revoked": gettext_lazy("revoked"),
    "username": gettext_lazy("user name"),
    "full_name": gettext_lazy("full name"),
    "store": gettext_lazy("store"),
    "store_id": gettext_lazy("store"),
    "locked_until": gettext_lazy("locked until"),
    "failed_logins": gettext_lazy("failed log-ins"),
    "member": gettext_lazy("member"),
    "points": gettext_lazy("points"),
    "reason": gettext_lazy("reason"),
    "template": gettext_lazy("coupon template"),
    "count": gettext_lazy("members"),
    "unmasked": gettext_lazy("full mobiles and ID numbers"),
    "format": gettext_lazy("file format"),
    "segment": gettext_lazy("segment"),
    "is_active": gettext_lazy("active"),
    "changes": gettext_lazy("changes"),
}
# Keys whose values are integer fen (a product's price, a price typed at the till): in yuan.
MONEY_KEYS = frozenset(
    {
        "price",
        "unit_price",
        "member_price",
        "refund_approval_above",
        "fee_paid",
        "principal_returned",
        "fee_returned",
    }
)
# Values that look like ISO times ("2026-12-06T15:12:00+08:00"): shown in the page's zone.
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
CHANNEL_LABELS = {
    "console": gettext_lazy("Console"),
    "api": gettext_lazy("API"),
    "cli": gettext_lazy("Command line"),
}
EMPTY = "—"
# What an entry says when nobody registered a sentence for it.
GENERIC_SENTENCES = {
    AuditEntry.Action.CREATE: gettext_lazy("Created %(type)s %(object)s"),
    AuditEntry.Action.UPDATE: gettext_lazy("Changed %(type)s %(object)s"),
    AuditEntry.Action.DELETE: gettext_lazy("Deactivated %(type)s %(object)s"),
    AuditEntry.Action.VIEW: gettext_lazy("Viewed the personal data of %(type)s %(object)s"),
    AuditEntry.Action.EXPORT: gettext_lazy("Exported %(type)s %(object)s"),
    AuditEntry.Action.IMPORT: gettext_lazy("Imported %(type)s %(object)s"),
    AuditEntry.Action.LOCKOUT: gettext_lazy("Locked the log-in of %(type)s %(object)s"),
    AuditEntry.Action.UNLOCK: gettext_lazy("Unlocked the log-in of %(type)s %(object)s"),
}

_sentences: dict[tuple[str, str, str], str | Promise] = {}
_object_names: dict[str, Names] = {}
_value_names: dict[str, Names] = {}
_type_labels: dict[str, str | Promise] = {}


def add_sentence(object_type: str, action: str, text: str | Promise, *, when: str = "") -> None:
    _sentences[(object_type, action, when)] = text


def add_object_names(object_type: str, names: Names) -> None:
    _object_names[object_type] = names


def add_value_names(key: str, names: Names) -> None:
    _value_names[key] = names


def add_object_type(object_type: str, label: str | Promise) -> None:
    _type_labels[object_type] = label


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
    summary: str  # what was done, as a sentence
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
    if object_type in _type_labels:
        return str(_type_labels[object_type])
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
    if key in KEY_LABELS:
        return str(KEY_LABELS[key])
    field = model_field(model, key)
    if field is not None and hasattr(field, "verbose_name"):
        return str(field.verbose_name)
    return key.replace("_", " ")


def show_time(value: str) -> str | None:
    """An ISO time in the page's zone, to the minute; None when `value` is not one."""
    if not ISO_TIME.match(value):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if timezone.is_naive(moment):
        return date_format(moment, "Y-m-d H:i")
    return date_format(timezone.localtime(moment), "Y-m-d H:i")


def show_value(
    value: Any, field=None, names: dict[str, str] | None = None, *, money: bool = False
) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if money and isinstance(value, int) and not isinstance(value, bool):
        return yuan(value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(show_value(v, field, names) for v in value)
    if isinstance(value, dict):  # custom fields: {key: value}, keys by their labels
        return ", ".join(
            f"{(names or {}).get(str(k), k)}: {show_value(v)}" for k, v in value.items()
        )
    if names is not None and str(value) in names:
        return names[str(value)]
    if isinstance(value, str) and (time := show_time(value)) is not None:
        return time
    choices = dict(field.flatchoices) if field is not None and field.choices else {}
    return str(choices.get(value, value))


def change_pairs(entry: AuditEntry) -> list[tuple[str, Any, Any]]:
    if not isinstance(entry.changes, dict):
        return []
    return [
        (key, *(change if isinstance(change, list) and len(change) == 2 else (None, change)))
        for key, change in entry.changes.items()
    ]


def shown_changes(entry: AuditEntry, names: PageNames) -> list[ShownChange]:
    model = model_for(entry.object_type)
    rows = []
    for key, old, new in change_pairs(entry):
        field = model_field(model, key)
        values = names.for_change(key, field)
        money = key in MONEY_KEYS
        rows.append(
            ShownChange(
                field=field_label(model, key),
                old=show_value(old, field, values, money=money),
                new=show_value(new, field, values, money=money),
            )
        )
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


def staff_names(merchant: Merchant, ids: set[str]) -> dict[str, str]:
    """Staff by id -> their full name (the user name when they have none)."""
    staff = Staff.objects.filter(merchant=merchant, pk__in=[i for i in ids if i.isdigit()])
    return {
        str(row.pk): row.user.get_full_name() or row.user.get_username()
        for row in staff.select_related("user")
    }


@dataclass
class PageNames:
    """The names a page of entries shows, each kind loaded once for the whole page."""

    stores: StoreNames
    objects: dict[str, dict[str, str]]  # object type -> id -> name
    values: dict[str, dict[str, str]]  # change key -> value -> name

    @classmethod
    def of(cls, merchant: Merchant, entries: list[AuditEntry]) -> PageNames:
        ids: dict[str, set[str]] = defaultdict(set)
        for entry in entries:
            ids[entry.object_type].add(entry.object_id)
        values: dict[str, set[str]] = defaultdict(set)
        for entry in entries:
            for key, old, new in change_pairs(entry):
                if key in _value_names:
                    values[key].update(_plain_values(old) | _plain_values(new))
        return cls(
            stores=StoreNames.of(merchant),
            objects={
                kind: _object_names[kind](merchant, found)
                for kind, found in ids.items()
                if kind in _object_names
            },
            values={key: _value_names[key](merchant, found) for key, found in values.items()},
        )

    def for_change(self, key: str, field) -> dict[str, str] | None:
        if getattr(field, "related_model", None) is Store or key == "store":
            return self.stores.for_key(key)
        return self.values.get(key)

    def object_name(self, entry: AuditEntry) -> str:
        name = self.objects.get(entry.object_type, {}).get(entry.object_id)
        return name or entry.object_repr or entry.object_id


def _plain_values(value: Any) -> set[str]:
    if isinstance(value, list):
        return {str(v) for v in value if v is not None}
    if isinstance(value, dict):
        return {str(k) for k in value}
    return set() if value is None else {str(value)}


def sentence(entry: AuditEntry, names: PageNames) -> str:
    """What was done, in a sentence: registered for the object type and action, else generic.
    It may name `object`, `type` and the new value of any change by its key."""
    params: dict[str, Any] = defaultdict(lambda: EMPTY)
    model = model_for(entry.object_type)
    for key, old, new in change_pairs(entry):
        field = model_field(model, key)
        params[key] = show_value(
            new if new is not None else old, field, names.for_change(key, field)
        )
    params["object"] = names.object_name(entry)
    params["type"] = object_type_label(entry.object_type)
    params["action"] = entry.get_action_display()
    return str(sentence_for(entry)) % params


def sentence_for(entry: AuditEntry) -> str | Promise:
    changed = entry.changes if isinstance(entry.changes, dict) else {}
    for key in changed:
        if (text := _sentences.get((entry.object_type, entry.action, key))) is not None:
            return text
    if (text := _sentences.get((entry.object_type, entry.action, ""))) is not None:
        return text
    return GENERIC_SENTENCES.get(entry.action, gettext_lazy("%(action)s %(type)s %(object)s"))


def present_entries(entries: Iterable[AuditEntry], merchant: Merchant) -> list[ShownEntry]:
    entries = list(entries)
    names = PageNames.of(merchant, entries)
    return [
        ShownEntry(
            entry=entry,
            who=who(entry),
            where=entry.store.name if entry.store_id else _("HQ"),
            channel=str(CHANNEL_LABELS.get(entry.channel, entry.channel)),
            object_label=object_type_label(entry.object_type),
            summary=sentence(entry, names),
            changes=shown_changes(entry, names),
            member_id=int(entry.object_id)
            if entry.object_type == "member" and ascii_digits(entry.object_id, fullwidth=False)
            else None,
        )
        for entry in entries
    ]


# --- tenancy's own entries -------------------------------------------------------------------

add_object_names("staff", staff_names)
add_object_type("apikey", gettext_lazy("API key"))
for _object_type, _action, _text in (
    ("merchant", AuditEntry.Action.CREATE, gettext_lazy("Created the merchant %(name)s")),
    ("store", AuditEntry.Action.CREATE, gettext_lazy("Opened the store %(object)s")),
    ("store", AuditEntry.Action.UPDATE, gettext_lazy("Changed the store %(object)s")),
    ("store", AuditEntry.Action.DELETE, gettext_lazy("Closed the store %(object)s")),
    ("staff", AuditEntry.Action.CREATE, gettext_lazy("Created the staff account %(object)s")),
    ("staff", AuditEntry.Action.UPDATE, gettext_lazy("Changed the staff account %(object)s")),
    ("staff", AuditEntry.Action.DELETE, gettext_lazy("Deactivated the staff account %(object)s")),
    (
        "staff",
        AuditEntry.Action.LOCKOUT,
        gettext_lazy(
            "Locked the log-in of %(object)s until %(locked_until)s after %(failed_logins)s"
            " failed attempts"
        ),
    ),
    ("staff", AuditEntry.Action.UNLOCK, gettext_lazy("Unlocked the log-in of %(object)s")),
    ("apikey", AuditEntry.Action.CREATE, gettext_lazy("Created the API key %(name)s")),
    ("apikey", AuditEntry.Action.DELETE, gettext_lazy("Revoked the API key %(object)s")),
):
    add_sentence(_object_type, _action, _text)
