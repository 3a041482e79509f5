"""Program-as-code (API.md §2, §5): validate a whole file, diff it, apply it section by section.

A section present in the file replaces the current one (what is missing is ended, kept for
history); an absent section is left alone; applying the same file twice changes nothing;
an invalid file is rejected whole with every error listed.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any, NamedTuple

import yaml
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils.translation import gettext as _
from pydantic import (
    BaseModel,
    TypeAdapter,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

from patron.core.errors import FieldError, ValidationFailed
from patron.program import fields, schema
from patron.program.display import change_in_words
from patron.program.models import Category, ProgramRevision
from patron.program.schema import CodedList, ItemList, ProgramModel, Refusal, repeats
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Store
from patron.tenancy.services import audit, create_store, update_store

SECTION_AND_ITEM = re.compile(r"([^.\[]*)(?:\[(\d+)\])?")
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
    steps: list[Callable[[], object]] = field(default_factory=list)

    def settings(
        self,
        section: str,
        current: dict[str, Any],
        wanted: dict[str, Any],
        save: Callable[[], object],
        keys: Iterable[str] | None = None,
    ) -> None:
        """Plan a section kept as one row of settings: a `change` for each key that differs
        (in the order of `keys`, else sorted) and one step that saves the row."""
        if current == wanted:
            return
        for key in sorted(set(current) | set(wanted)) if keys is None else keys:
            if current.get(key) != wanted.get(key):
                detail = f"{current.get(key)!r} -> {wanted.get(key)!r}"
                self.changes.append(Change(section, "change", key, detail))
        self.steps.append(save)


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


class StoreRow(ProgramModel):
    """A store: `code` is how sales, members and promotions name it."""

    code: fields.Code
    name: fields.Name
    address: Annotated[str, fields.Text(200)] = None
    phone: Annotated[str, fields.Text(32)] = None


class Stores(CodedList[StoreRow]):
    """The merchant's stores; a store left out is deactivated (its history is kept)."""

    def cleaned(self) -> list[dict[str, str]]:
        return [row.given() for row in self.root]


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


class CategoryRow(ProgramModel):
    """A category with its display name (`{code: rooms, name: 客房}`)."""

    code: fields.Category
    name: fields.Name


_CATEGORY_CODE = TypeAdapter(fields.Category)
_CATEGORY_ROW = TypeAdapter(CategoryRow)


def _code_or_row(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    # Told apart by shape, so an error is the one of the form the file used (a bad code is
    # "A category of 1 to 40 characters …", not that and "Must be a mapping.").
    return (_CATEGORY_ROW if isinstance(value, dict) else _CATEGORY_CODE).validate_python(value)


CategoryItem = Annotated[fields.Category | CategoryRow, WrapValidator(_code_or_row)]


class Categories(ItemList[CategoryItem]):
    """Product categories in the order the console lists them: a plain code (the name shown is
    the code) or `{code, name}`, the name every screen shows."""

    @classmethod
    def problems(cls, value: Any) -> Iterator[Refusal]:
        if not isinstance(value, list):
            return
        codes = (
            (index, fields.CATEGORY.parse(item.get("code") if isinstance(item, dict) else item))
            for index, item in enumerate(value)
        )
        for index, code in repeats(codes):
            yield (index,), _("Duplicate category %s.") % code

    def cleaned(self) -> list[tuple[str, str]]:
        """(code, name) in the file's order; the name is empty when the file gave a code only."""
        return [
            (item.code, item.name) if isinstance(item, CategoryRow) else (item, "")
            for item in self.root
        ]


def _plan_categories(actor: Actor, rows: list[tuple[str, str]], plan: Plan) -> None:
    current = {c.code: c for c in Category.objects.filter(merchant=actor.merchant)}
    codes = [code for code, _name in rows]
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
    for position, (code, name) in enumerate(rows):
        category = current.get(code)
        if category is None:
            plan.changes.append(Change("categories", "add", code, name))
            plan.steps.append(
                lambda code=code, name=name, position=position: Category.objects.create(
                    merchant=actor.merchant, code=code, name=name, position=position
                )
            )
            continue
        if category.is_active and category.position == position and category.name == name:
            continue
        if not category.is_active:
            plan.changes.append(Change("categories", "change", code, _("(reactivated)")))
        if category.name != name:
            plan.changes.append(
                Change("categories", "change", code, f"name: {category.name!r} -> {name!r}")
            )
        plan.steps.append(
            lambda c=category, name=name, position=position: Category.objects.filter(
                pk=c.pk
            ).update(is_active=True, position=position, name=name)
        )
    for code, category in current.items():
        if code not in codes and category.is_active:
            plan.changes.append(Change("categories", "end", code))
            plan.steps.append(
                lambda c=category: Category.objects.filter(pk=c.pk).update(is_active=False)
            )


def export_categories(actor: Actor) -> list[str | dict[str, str]]:
    """A plain code for a category without a name (as files of old had them), else both."""
    return [
        {"code": code, "name": name} if name else code
        for code, name in Category.objects.filter(
            merchant=actor.merchant, is_active=True
        ).values_list("code", "name")
    ]


# --- the whole file --------------------------------------------------------------------------


class Section(NamedTuple):
    """A section of the program file and the app that owns it."""

    # A pydantic model (ProgramModel or ItemList) whose instances give `cleaned()`: the value
    # `plan` takes.
    model: type[BaseModel]
    plan: Callable[[Actor, Any, Plan], None]
    export: Callable[[Actor], Any]


SECTIONS: dict[str, Section] = {
    "stores": Section(Stores, _plan_stores, export_stores),
    "categories": Section(Categories, _plan_categories, export_categories),
}


def register_section(
    name: str,
    model: type[BaseModel],
    plan: Callable[[Actor, Any, Plan], None],
    export: Callable[[Actor], Any],
) -> None:
    """Let an app own a program section (called from its AppConfig.ready()).

    `model` checks the section and its instances give `cleaned()`, the value that
    `plan(actor, cleaned, plan)` takes; `export(actor)` gives the section back as a file has it.
    """
    SECTIONS[name] = Section(model, plan, export)
    FUTURE_SECTIONS.discard(name)
    program_model.cache_clear()


@functools.cache
def program_model() -> type[BaseModel]:
    """The whole file as one model, made from the sections registered."""
    return schema.file_model({name: section.model for name, section in SECTIONS.items()})


def program_json_schema() -> dict[str, Any]:
    """The JSON Schema of program files, for editors to validate and complete them."""
    return schema.json_schema(program_model())


def program_body_schema() -> dict[str, Any]:
    """The same, self-contained, for the API document's `PUT /program` body."""
    return schema.inlined(program_json_schema())


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


def _section_errors(document: dict[str, Any]) -> list[FieldError]:
    """An error for each section this version does not apply."""
    errors = []
    for section in document:
        if section in SECTIONS:
            continue
        if section in FUTURE_SECTIONS:
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
    return errors


def validate_program(document: dict[str, Any]) -> dict[str, Any]:
    """Check every section; raise with every error found, or return the cleaned sections."""
    errors: list[FieldError] = _nul_errors(document)
    if errors:
        raise ValidationFailed(errors, detail=_("The program file has %d error(s).") % len(errors))
    known = {section: value for section, value in document.items() if section in SECTIONS}
    try:
        parsed = program_model().model_validate(known)
    except ValidationError as error:
        errors = schema.field_errors(error)
    errors += _section_errors(document)
    if errors:
        errors.sort(key=_in_file_order(document))
        raise ValidationFailed(errors, detail=_("The program file has %d error(s).") % len(errors))
    return {section: getattr(parsed, section).cleaned() for section in known}


def _in_file_order(document: dict[str, Any]) -> Callable[[FieldError], tuple[int, int]]:
    """Sort key listing errors by section as the file has them, then by item (stable)."""
    sections = {str(section): position for position, section in enumerate(document)}

    def key(error: FieldError) -> tuple[int, int]:
        found = SECTION_AND_ITEM.match(error.field)
        section, item = found.groups() if found else (error.field, None)
        return sections.get(section, len(sections)), int(item) if item else -1

    return key


def plan_program(actor: Actor, document: dict[str, Any]) -> Plan:
    cleaned = validate_program(document)
    plan = Plan()
    # In the order the apps registered their sections, not the file's: a later section may
    # name what an earlier one adds (a card product names a tier of the same file).
    for section in SECTIONS:
        if section in cleaned:
            SECTIONS[section].plan(actor, cleaned[section], plan)
    return plan


def apply_program(actor: Actor, document: dict[str, Any], *, dry_run: bool = False) -> list[Change]:
    """Make the merchant's program equal to `document`; returns what changed (or would)."""
    with transaction.atomic():
        plan = plan_program(actor, document)
        if dry_run or not plan.changes and not plan.steps:
            return plan.changes
        given = [section for section in document if section in SECTIONS]
        before = export_sections(actor, given)
        for step in plan.steps:
            step()
        revision = ProgramRevision.objects.create(
            merchant=actor.merchant,
            # YAML gives dates and datetimes; the revision keeps the file as JSON text would.
            document=as_json(document),
            changes=[str(change) for change in plan.changes],
            before=as_json(before),
            after=as_json(export_sections(actor, given)),
            applied_by=actor.user,
            channel=actor.channel,
        )
        audit(
            actor,
            AuditEntry.Action.UPDATE,
            revision,
            {"changes": [None, [change_in_words(line) for line in revision.changes]]},
            label=f"#{revision.pk}",
        )
    return plan.changes


def as_json(value: Any) -> Any:
    """`value` as JSON text would give it back (dates as ISO text, choices as plain text)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def export_sections(actor: Actor, sections: list[str]) -> dict[str, Any]:
    return {name: SECTIONS[name].export(actor) for name in sections}


def export_program(actor: Actor) -> dict[str, Any]:
    return {name: section.export(actor) for name, section in SECTIONS.items()}


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
