"""How the audit log names what the ledger writes (a manual points adjustment)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from patron.tenancy import audit_display
from patron.tenancy.models import AuditEntry


def register() -> None:
    audit_display.add_object_type("transaction", gettext_lazy("ledger movement"))
    audit_display.add_sentence(
        "transaction",
        AuditEntry.Action.CREATE,
        gettext_lazy("Adjusted the points of %(member)s by %(points)s"),
    )
