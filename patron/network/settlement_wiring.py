"""Registrations the settlement part makes with the floors below: how the audit log says a
month's close."""

from django.utils.translation import gettext_lazy

from patron.tenancy import audit_display


def register() -> None:
    audit_display.add_object_type("settlementmonth", gettext_lazy("settlement month"))
    audit_display.add_sentence(
        "settlementmonth", "create", gettext_lazy("Closed the settlement of %(object)s")
    )
