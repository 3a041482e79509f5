"""Program-as-code (API.md §2, §5): validate a whole file, diff it, apply it section by section.

A section present in the file replaces the current one (what is missing is ended, kept for
history); an absent section is left alone; applying the same file twice changes nothing;
an invalid file is rejected whole with every error listed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils.translation import gettext as _

from patron.core.errors import FieldError, ValidationFailed
from patron.program.models import Category, ProgramRevision
from patron.tenancy.actor import Actor
from patron.tenancy.models import Store
from patron.tenancy.services import create_store, update_store

# Used with fullmatch: with match, "$" would also accept a trailing newline ("S1\n").
CODE_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,32}")
CATEGORY_SHAPE = re.compile(r"[^\s,，\x00]{1,40}")
# Sections named in API.md §2 that later versions of Patron will apply.
FUTURE_SECTIONS = {
    "tiers",
    "card_products",
    "points",
    "topup_bonus",
    "rewards",
    "coupon_templates",
    "promotions",
}


@dataclass
class Change:
    section: str
    op: str  # add / change / end
    key: str
    detail: str = ""

    def __str__(self) -> str:
        sign = {"add": "+", "change": "~", "end": "-"}[self.op]
        return f"{sign} {self.section} {self.key}{(' ' + self.detail) if self.detail else ''}"


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    steps: list[Callable[[], None]] = field(default_factory=list)


def parse_document(text: str) -> dict[str, Any]:
    """YAML or JSON text -> mapping (JSON is YAML)."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as problem:
        raise ValidationFailed(
            [FieldError("$", _("Not valid YAML or JSON: %s") % problem)]
        ) from None
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ValidationFailed([FieldError("$", _("The program file must be a mapping."))])
    return document


# --- stores ----------------------------------------------------------------------------------


def _check_stores(value: Any, errors: list[FieldError]) -> list[dict[str, str]]:
    if not isinstance(value, list):
        errors.append(FieldError("stores", _("Must be a list of {code, name}.")))
        return []
    seen: set[str] = set()
    rows = []
    for index, item in enumerate(value):
        path = f"stores[{index}]"
        if not isinstance(item, dict):
            errors.append(FieldError(path, _("Must be a mapping with code and name.")))
            continue
        unknown = set(item) - {"code", "name", "address", "phone"}
        if unknown:
            errors.append(FieldError(path, _("Unknown keys: %s") % ", ".join(sorted(unknown))))
        code, name = item.get("code"), item.get("name")
        if not isinstance(code, str) or not CODE_SHAPE.fullmatch(code):
            errors.append(FieldError(f"{path}.code", _("Use 1 to 32 letters, digits, - or _.")))
            continue
        if code in seen:
            errors.append(FieldError(f"{path}.code", _("Duplicate store code %s.") % code))
        seen.add(code)
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100:
            errors.append(FieldError(f"{path}.name", _("A name of 1 to 100 characters.")))
            continue
        row = {"code": code, "name": name.strip()}
        for optional, limit in (("address", 200), ("phone", 32)):
            if optional in item:
                if not isinstance(item[optional], str) or len(item[optional]) > limit:
                    errors.append(
                        FieldError(
                            f"{path}.{optional}", _("Text of at most %d characters.") % limit
                        )
                    )
                else:
                    row[optional] = item[optional]
        rows.append(row)
    return rows


def _plan_stores(actor: Actor, rows: list[dict[str, str]], plan: Plan) -> None:
    current = {s.code: s for s in Store.objects.filter(merchant=actor.merchant)}
    for row in rows:
        store = current.get(row["code"])
        if store is None:
            plan.changes.append(Change("stores", "add", row["code"], row["name"]))
            plan.steps.append(lambda row=row: create_store(actor, **row))
            continue
        wanted = {
            **{k: getattr(store, k) for k in ("name", "address", "phone")},
            **row,
            "is_active": True,
        }
        wanted.pop("code")
        changed = {k: v for k, v in wanted.items() if getattr(store, k) != v}
        if changed:
            detail = ", ".join(f"{k}: {getattr(store, k)!r} -> {v!r}" for k, v in changed.items())
            plan.changes.append(Change("stores", "change", store.code, detail))
            plan.steps.append(
                lambda store=store, changed=changed: update_store(actor, store, **changed)
            )
    listed = {row["code"] for row in rows}
    for code, store in current.items():
        if code not in listed and store.is_active:
            plan.changes.append(Change("stores", "end", code, _("(deactivated, history kept)")))
            plan.steps.append(lambda store=store: update_store(actor, store, is_active=False))


def export_stores(actor: Actor) -> list[dict[str, str]]:
    rows = []
    for store in Store.objects.filter(merchant=actor.merchant, is_active=True).order_by("code"):
        row = {"code": store.code, "name": store.name}
        if store.address:
            row["address"] = store.address
        if store.phone:
            row["phone"] = store.phone
        rows.append(row)
    return rows


# --- categories ------------------------------------------------------------------------------


def _check_categories(value: Any, errors: list[FieldError]) -> list[str]:
    if not isinstance(value, list):
        errors.append(FieldError("categories", _("Must be a list of category names.")))
        return []
    codes: list[str] = []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not CATEGORY_SHAPE.fullmatch(item):
            errors.append(
                FieldError(
                    f"categories[{index}]",
                    _("A name of 1 to 40 characters without spaces or commas."),
                )
            )
        elif item in codes:
            errors.append(FieldError(f"categories[{index}]", _("Duplicate category %s.") % item))
        else:
            codes.append(item)
    return codes


def _plan_categories(actor: Actor, codes: list[str], plan: Plan) -> None:
    current = {c.code: c for c in Category.objects.filter(merchant=actor.merchant)}
    # The order is part of the program (export lists categories by position): a new order of
    # the categories kept is a change to show, not a silent update.
    kept_now = [c.code for c in sorted(current.values(), key=lambda c: (c.position, c.code))]
    kept_now = [code for code in kept_now if code in codes and current[code].is_active]
    kept_wanted = [code for code in codes if code in kept_now]
    if kept_now != kept_wanted:
        plan.changes.append(
            Change(
                "categories",
                "change",
                _("(order)"),
                " ".join(kept_now) + " -> " + " ".join(kept_wanted),
            )
        )
    for position, code in enumerate(codes):
        category = current.get(code)
        if category is None:
            plan.changes.append(Change("categories", "add", code))
            plan.steps.append(
                lambda code=code, position=position: Category.objects.create(
                    merchant=actor.merchant, code=code, position=position
                )
            )
        elif not category.is_active or category.position != position:
            if not category.is_active:
                plan.changes.append(Change("categories", "change", code, _("(reactivated)")))
            plan.steps.append(
                lambda c=category, position=position: Category.objects.filter(pk=c.pk).update(
                    is_active=True, position=position
                )
            )
    for code, category in current.items():
        if code not in codes and category.is_active:
            plan.changes.append(Change("categories", "end", code))
            plan.steps.append(
                lambda c=category: Category.objects.filter(pk=c.pk).update(is_active=False)
            )


def export_categories(actor: Actor) -> list[str]:
    return list(
        Category.objects.filter(merchant=actor.merchant, is_active=True).values_list(
            "code", flat=True
        )
    )


# --- the whole file --------------------------------------------------------------------------

SECTIONS = {
    "stores": (_check_stores, _plan_stores, export_stores),
    "categories": (_check_categories, _plan_categories, export_categories),
}


def register_section(name: str, check, plan, export) -> None:
    """Let an app own a program section (called from its AppConfig.ready()).

    `check(value, errors) -> cleaned`, `plan(actor, cleaned, plan)`, `export(actor) -> value`.
    """
    SECTIONS[name] = (check, plan, export)
    FUTURE_SECTIONS.discard(name)


def _nul_errors(value: Any, path: str = "") -> list[FieldError]:
    """Text holding NUL, wherever it is (PostgreSQL can neither store nor compare it)."""
    if isinstance(value, str):
        if "\x00" not in value:
            return []
        return [FieldError(path or "$", _("Remove the NUL character (\\u0000)."))]
    if isinstance(value, dict):
        errors = []
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            errors += _nul_errors(key, child) or _nul_errors(item, child)
        return errors
    if isinstance(value, list):
        return [e for i, item in enumerate(value) for e in _nul_errors(item, f"{path}[{i}]")]
    return []


def validate_program(document: dict[str, Any]) -> dict[str, Any]:
    """Check every section; raise with every error found, or return the cleaned sections."""
    errors: list[FieldError] = _nul_errors(document)
    if errors:
        raise ValidationFailed(errors, detail=_("The program file has %d error(s).") % len(errors))
    cleaned: dict[str, Any] = {}
    for section, value in document.items():
        if section in SECTIONS:
            cleaned[section] = SECTIONS[section][0](value, errors)
        elif section in FUTURE_SECTIONS:
            errors.append(
                FieldError(
                    section,
                    _(
                        "This section is not supported yet by this "
                        "version of Patron; remove it to apply the rest."
                    ),
                )
            )
        else:
            errors.append(FieldError(str(section), _("Unknown section.")))
    if errors:
        raise ValidationFailed(errors, detail=_("The program file has %d error(s).") % len(errors))
    return cleaned


def plan_program(actor: Actor, document: dict[str, Any]) -> Plan:
    cleaned = validate_program(document)
    plan = Plan()
    for section, value in cleaned.items():
        SECTIONS[section][1](actor, value, plan)
    return plan


def apply_program(actor: Actor, document: dict[str, Any], *, dry_run: bool = False) -> list[Change]:
    """Make the merchant's program equal to `document`; returns what changed (or would)."""
    with transaction.atomic():
        plan = plan_program(actor, document)
        if dry_run or not plan.changes and not plan.steps:
            return plan.changes
        for step in plan.steps:
            step()
        ProgramRevision.objects.create(
            merchant=actor.merchant,
            # YAML gives dates and datetimes; the revision keeps the file as JSON text would.
            document=json.loads(json.dumps(document, cls=DjangoJSONEncoder)),
            changes=[str(change) for change in plan.changes],
            applied_by=actor.user,
            channel=actor.channel,
        )
    return plan.changes


def export_program(actor: Actor) -> dict[str, Any]:
    return {section: spec[2](actor) for section, spec in SECTIONS.items()}


class ProgramDumper(yaml.SafeDumper):
    """SafeDumper that also writes str subclasses (Django TextChoices members) as plain text."""


ProgramDumper.add_multi_representer(str, lambda dumper, text: dumper.represent_str(str(text)))


def dump_yaml(document: dict[str, Any]) -> str:
    return yaml.dump(
        document,
        Dumper=ProgramDumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=None,
        width=100,
    )
