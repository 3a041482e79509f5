"""How the audit log tells a card's life: a sentence per step, the holder by name, products
by name (registered with `tenancy.audit_display` from card_wiring.register)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from patron.cards.models import CardProduct
from patron.members.audit import members_by_id
from patron.tenancy import audit_display
from patron.tenancy.models import AuditEntry, Merchant


def product_names(merchant: Merchant, codes: set[str]) -> dict[str, str]:
    rows = CardProduct.objects.filter(merchant=merchant, code__in=codes)
    return dict(rows.values_list("code", "name"))


def register() -> None:
    audit_display.add_value_names("holder", members_by_id)
    audit_display.add_value_names("product", product_names)
    audit_display.add_object_type("card", gettext_lazy("card"))
    for action, when, text in (
        (
            AuditEntry.Action.CREATE,
            "product",
            gettext_lazy("Issued the card %(object)s (%(product)s) to %(holder)s"),
        ),
        (
            AuditEntry.Action.CREATE,
            "in_place_of",
            gettext_lazy("Issued the card %(object)s to %(holder)s in place of %(in_place_of)s"),
        ),
        (
            AuditEntry.Action.UPDATE,
            "lost_at",
            gettext_lazy("Reported the card %(object)s of %(holder)s lost"),
        ),
        (
            AuditEntry.Action.UPDATE,
            "replaced_by",
            gettext_lazy("Replaced the card %(object)s of %(holder)s with %(replaced_by)s"),
        ),
        (
            AuditEntry.Action.UPDATE,
            "closed_at",
            gettext_lazy("Refunded and closed the card %(object)s of %(holder)s"),
        ),
        (
            AuditEntry.Action.UPDATE,
            "physical_id",
            gettext_lazy("Bound the physical card %(physical_id)s to the card %(object)s"),
        ),
    ):
        audit_display.add_sentence("card", action, text, when=when)
