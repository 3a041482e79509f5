"""Reads of the program's own tables that other apps need: categories and their names."""

from __future__ import annotations

from patron.program.models import Category
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant
from patron.tenancy.selectors import scoped


def category_names(merchant: Merchant) -> dict[str, str]:
    """Every category's display name by its code; ended ones too, as old sales still name
    them. The code stands in for a name the program file did not give."""
    rows = Category.objects.filter(merchant=merchant).values_list("code", "name")
    return {code: name or code for code, name in rows}


def active_categories(actor: Actor) -> list[Category]:
    """The categories a product or a sale line may use, in the program's order."""
    return list(scoped(Category.objects.filter(is_active=True), actor, store_field=None))


def category_choices(actor: Actor) -> list[tuple[str, str]]:
    """(code, name) pairs for a form's select: the name shown, the code posted."""
    return [(category.code, category.display_name) for category in active_categories(actor)]
