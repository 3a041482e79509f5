"""How the audit log names what the catalogue writes: a product's category by its name."""

from __future__ import annotations

from patron.program.models import Category
from patron.tenancy import audit_display
from patron.tenancy.models import Merchant


def category_names(merchant: Merchant, ids: set[str]) -> dict[str, str]:
    categories = Category.objects.filter(merchant=merchant, pk__in=[i for i in ids if i.isdigit()])
    return {
        str(pk): name or code for pk, code, name in categories.values_list("pk", "code", "name")
    }


def register() -> None:
    audit_display.add_value_names("category_id", category_names)
