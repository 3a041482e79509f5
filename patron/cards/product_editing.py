"""Console changes to card products, as program revisions (the `card_products` section).

Like patron.promotions.editing: each change (add, edit, end) builds the section from the
current one (as `patron program export` writes it) plus the change and applies it through
`patron.program.services.apply_program`: the same validation, plan, ProgramRevision and audit
entry as `patron program apply`, and the export shows the change.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from patron.core.errors import NotFound, ValidationFailed
from patron.program import services as program
from patron.program.services import Change
from patron.promotions.editing import ITEM_PATH, RowError, RowRefused, current_rows
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant

SECTION = "card_products"


def product_rows(actor: Actor) -> list[dict[str, Any]]:
    return current_rows(actor, SECTION)


def product_row(actor: Actor, code: str) -> dict[str, Any]:
    for row in product_rows(actor):
        if row["code"] == code:
            return row
    raise NotFound(_("Not found"))


def _apply(actor: Actor, rows: list[dict[str, Any]], index: int) -> list[Change]:
    try:
        return program.apply_program(actor, {SECTION: rows})
    except ValidationFailed as failure:
        row_errors, other = [], []
        for error in failure.errors:
            found = ITEM_PATH.fullmatch(error.field)
            if found and found["section"] == SECTION and int(found["index"]) == index:
                row_errors.append(RowError(found["rest"] or "", str(error.message)))
            else:
                other.append(f"{error.field}: {error.message}")
        raise RowRefused(row_errors, other) from None


def _lock(merchant: Merchant) -> None:
    """One console change of a merchant's program at a time: each builds on the last."""
    Merchant.objects.select_for_update().filter(pk=merchant.pk).first()


def create_product(actor: Actor, row: dict[str, Any]) -> list[Change]:
    """Add a card product; a code already in the section is refused."""
    with transaction.atomic():
        _lock(actor.merchant)
        rows = product_rows(actor)
        if any(existing["code"] == row.get("code") for existing in rows):
            raise RowRefused([RowError("code", _("This code is already in use."))], [])
        return _apply(actor, [*rows, row], len(rows))


def update_product(actor: Actor, code: str, row: dict[str, Any]) -> list[Change]:
    """Replace a card product; its code stays (the code is its identity)."""
    with transaction.atomic():
        _lock(actor.merchant)
        rows = product_rows(actor)
        for index, existing in enumerate(rows):
            if existing["code"] == code:
                rows[index] = {**row, "code": code}
                return _apply(actor, rows, index)
        raise NotFound(_("Not found"))


def end_product(actor: Actor, code: str) -> list[Change]:
    """End a card product: the section without it (its cards and memberships keep working)."""
    with transaction.atomic():
        _lock(actor.merchant)
        rows = product_rows(actor)
        kept = [row for row in rows if row["code"] != code]
        if len(kept) == len(rows):
            raise NotFound(_("Not found"))
        return _apply(actor, kept, -1)
