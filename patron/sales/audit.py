"""How the audit log names sales' objects (their models declare no translated name)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from patron.tenancy import audit_display


def register() -> None:
    audit_display.add_object_type("sale", gettext_lazy("sale"))
    audit_display.add_object_type("refund", gettext_lazy("refund"))
    audit_display.add_object_type("memberpin", gettext_lazy("payment PIN"))
    audit_display.add_object_type("checkoutpolicy", gettext_lazy("checkout settings"))
