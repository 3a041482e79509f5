"""Console changes to promotions and coupon templates, as program revisions.

Every change (create, edit, pause, resume, end) builds the new section from the current one
(as `patron program export` writes it) plus the change, and applies it through
`patron.program.services.apply_program`, the path `patron program apply` takes: the same
validation, plan, ProgramRevision and audit entry, and the export shows the change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from patron.core.errors import FieldError, NotFound, ValidationFailed
from patron.program import services as program
from patron.program.services import Change
from patron.promotions import store_activities
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant

SECTIONS = ("promotions", "coupon_templates")
ITEM_PATH = re.compile(r"(?P<section>[a-z_]+)\[(?P<index>\d+)\](?:\.(?P<rest>.*))?")


@dataclass(frozen=True)
class RowError:
    """A refusal of the edited row: `path` below the row (`benefit.value`), "" for the row."""

    path: str
    message: str


class RowRefused(Exception):
    """The program schema refused the change; nothing was written."""

    def __init__(self, row_errors: list[RowError], other_errors: list[str]) -> None:
        super().__init__("; ".join(e.message for e in row_errors) or "; ".join(other_errors))
        self.row_errors = row_errors
        self.other_errors = other_errors


def current_rows(actor: Actor, section: str) -> list[dict[str, Any]]:
    """The section as `patron program export` writes it now."""
    return program.export_sections(actor, [section])[section]


def current_row(actor: Actor, section: str, code: str) -> dict[str, Any]:
    for row in current_rows(actor, section):
        if row["code"] == code:
            return row
    raise NotFound(_("Not found"))


def _apply(actor: Actor, section: str, rows: list[dict[str, Any]], index: int) -> list[Change]:
    """Apply the section; refusals of item `index` are kept apart, by their path in it."""
    try:
        return program.apply_program(actor, {section: rows})
    except ValidationFailed as failure:
        raise _refused(failure.errors, section, index) from None


def _refused(errors: list[FieldError], section: str, index: int) -> RowRefused:
    row_errors, other = [], []
    for error in errors:
        found = ITEM_PATH.fullmatch(error.field)
        if found and found["section"] == section and int(found["index"]) == index:
            row_errors.append(RowError(found["rest"] or "", str(error.message)))
        else:
            other.append(f"{error.field}: {error.message}")
    return RowRefused(row_errors, other)


def _lock(merchant: Merchant) -> None:
    """One console change of a merchant's program at a time: each builds on the last."""
    Merchant.objects.select_for_update().filter(pk=merchant.pk).first()


def _check_section(section: str) -> None:
    if section not in SECTIONS:
        raise ValueError(f"not an editable section: {section}")


def _guard(
    actor: Actor,
    section: str,
    existing: dict[str, Any] | None,
    row: dict[str, Any] | None,
    *,
    new: bool = True,
) -> dict[str, Any] | None:
    """A store manager changes only their store's own rows, within HQ's limits (F-41);
    gives the row as it will be applied. HQ roles pass unchecked.

    Raises NotYourStore (HQ's or another store's row, or a row for another store),
    StoreActivitiesOff (HQ has not allowed it) or RowRefused (beyond the limits).
    """
    scope = store_activities.store_scope(actor)
    if scope is None:
        return row
    if existing is not None:
        store_activities.check_owner(scope, existing.get("owner"))
    if row is None:  # pausing, resuming or ending their own
        return row
    store_activities.check_owner(scope, row.get("owner"))
    limits = store_activities.check_allowed(actor.merchant, section)
    refusals = [
        RowError(".".join(str(part) for part in path), message)
        for path, message in store_activities.benefit_refusals(limits, row.get("benefit") or {})
    ]
    if section == "promotions" and row.get("kind") == "automatic":
        # Applies at their store only.
        condition = dict(row.get("condition") or {})
        if condition.get("stores", [scope.code]) != [scope.code]:
            refusals.append(
                RowError("condition.stores", _("Your store's promotion applies at your store."))
            )
        row = {**row, "condition": {**condition, "stores": [scope.code]}}
    if refusals:
        raise RowRefused(refusals, [])
    if new:
        store_activities.check_live(limits, actor.merchant, scope)
    return row


def within_store_limits(actor: Actor, section: str, row: dict[str, Any]) -> dict[str, Any]:
    """The row as saving would apply it for `actor` (a store manager's automatic promotion at
    their store only), or RowRefused / NotYourStore / StoreActivitiesOff as saving would: the
    editor's preview prices only what may be saved."""
    return _guard(actor, section, None, row, new=False) or row


def create_row(actor: Actor, section: str, row: dict[str, Any]) -> list[Change]:
    """Add a promotion or coupon template; a code already in the section is refused."""
    _check_section(section)
    with transaction.atomic():
        _lock(actor.merchant)
        rows = current_rows(actor, section)
        if any(existing["code"] == row.get("code") for existing in rows):
            raise RowRefused([RowError("code", _("This code is already in use."))], [])
        row = _guard(actor, section, None, row)
        return _apply(actor, section, [*rows, row], len(rows))


def _replaced(
    actor: Actor, section: str, code: str, change: Any
) -> tuple[list[dict[str, Any]], int]:
    rows = current_rows(actor, section)
    for index, existing in enumerate(rows):
        if existing["code"] == code:
            _guard(actor, section, existing, None)
            rows[index] = change(dict(existing))
            return rows, index
    raise NotFound(_("Not found"))


def _edited(existing: dict[str, Any], row: dict[str, Any], code: str) -> dict[str, Any]:
    """The form's row; a promotion's `limits`, which the form does not edit, are kept."""
    kept = {"limits": existing["limits"]} if "limits" in existing and "limits" not in row else {}
    return {**row, **kept, "code": code}


def update_row(actor: Actor, section: str, code: str, row: dict[str, Any]) -> list[Change]:
    """Replace a promotion or coupon template; its code stays (the code is its identity)."""
    _check_section(section)
    with transaction.atomic():
        _lock(actor.merchant)
        rows, index = _replaced(actor, section, code, lambda existing: _edited(existing, row, code))
        rows[index] = _guard(actor, section, None, rows[index], new=False)
        return _apply(actor, section, rows, index)


def set_paused(actor: Actor, section: str, code: str, paused: bool) -> list[Change]:
    """Pause (`paused: true` in the file) or resume a promotion or coupon template."""
    _check_section(section)

    def change(existing: dict[str, Any]) -> dict[str, Any]:
        existing.pop("paused", None)
        if not paused:
            return existing
        # Right after the name, where export writes it.
        keys = list(existing)
        place = keys.index("name") + 1
        return dict([*existing.items()][:place] + [("paused", True)] + [*existing.items()][place:])

    with transaction.atomic():
        _lock(actor.merchant)
        rows, index = _replaced(actor, section, code, change)
        return _apply(actor, section, rows, index)


def end_row(actor: Actor, section: str, code: str) -> list[Change]:
    """End a promotion or coupon template: the section without it (history is kept)."""
    _check_section(section)
    with transaction.atomic():
        _lock(actor.merchant)
        rows = current_rows(actor, section)
        kept = [row for row in rows if row["code"] != code]
        if len(kept) == len(rows):
            raise NotFound(_("Not found"))
        _guard(actor, section, next(row for row in rows if row["code"] == code), None)
        return _apply(actor, section, kept, -1)
