"""How the audit log names what program writes: categories by their display names, and a
sentence for an applied revision (its changes were put in words when it was applied)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from patron.program.models import Category
from patron.tenancy import audit_display
from patron.tenancy.models import AuditEntry, Merchant


def category_names(merchant: Merchant, codes: set[str]) -> dict[str, str]:
    rows = Category.objects.filter(merchant=merchant, code__in=codes)
    # Categories are named by the catalogue; one without a name shows its code.
    return {row.code: getattr(row, "name", "") or row.code for row in rows}


def register() -> None:
    audit_display.add_value_names("category", category_names)
    audit_display.add_sentence(
        "programrevision",
        AuditEntry.Action.UPDATE,
        gettext_lazy("Applied the program revision %(object)s"),
    )
