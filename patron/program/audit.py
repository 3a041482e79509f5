"""How the audit log names categories (by their display names, not their codes)."""

from __future__ import annotations

from patron.program.models import Category
from patron.tenancy import audit_display
from patron.tenancy.models import Merchant


def category_names(merchant: Merchant, codes: set[str]) -> dict[str, str]:
    rows = Category.objects.filter(merchant=merchant, code__in=codes)
    # Categories are named by the catalogue; one without a name shows its code.
    return {row.code: getattr(row, "name", "") or row.code for row in rows}


def register() -> None:
    audit_display.add_value_names("category", category_names)
