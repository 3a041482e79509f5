"""How the audit log names what members writes: members by name, custom fields by label, and
a sentence for each action (registered with `tenancy.audit_display` from MembersConfig.ready)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from patron.members.models import CustomField, Member
from patron.tenancy import audit_display
from patron.tenancy.models import AuditEntry, Merchant

EXPORT_FORMATS = {"csv": "CSV", "xlsx": "Excel"}


def member_label(name: str, card_no: str) -> str:
    return _("%(name)s (card %(card)s)") % {"name": name, "card": card_no} if name else card_no


def members_by_id(merchant: Merchant, ids: set[str]) -> dict[str, str]:
    rows = Member.objects.filter(merchant=merchant, pk__in=[i for i in ids if i.isdigit()])
    return {
        str(pk): member_label(name, card)
        for pk, name, card in rows.values_list("pk", "name", "card_no")
    }


def members_by_card(merchant: Merchant, cards: set[str]) -> dict[str, str]:
    rows = Member.objects.filter(merchant=merchant, card_no__in=cards)
    return {card: member_label(name, card) for name, card in rows.values_list("name", "card_no")}


def custom_field_labels(merchant: Merchant, keys: set[str]) -> dict[str, str]:
    rows = CustomField.objects.filter(merchant=merchant, key__in=keys)
    return dict(rows.values_list("key", "label"))


def export_formats(merchant: Merchant, values: set[str]) -> dict[str, str]:
    return EXPORT_FORMATS


def register() -> None:
    audit_display.add_object_names("member", members_by_id)
    audit_display.add_value_names("member", members_by_card)
    audit_display.add_value_names("custom", custom_field_labels)
    audit_display.add_value_names("format", export_formats)
    audit_display.add_object_type("customfield", gettext_lazy("custom field"))
    Action = AuditEntry.Action
    for object_type, action, text in (
        ("member", Action.CREATE, gettext_lazy("Registered the member %(object)s")),
        ("member", Action.UPDATE, gettext_lazy("Changed the member %(object)s")),
        (
            "member",
            Action.VIEW,
            gettext_lazy("Viewed the full mobile and ID number of %(object)s"),
        ),
        ("customfield", Action.CREATE, gettext_lazy("Defined the custom field %(object)s")),
        ("customfield", Action.UPDATE, gettext_lazy("Changed the custom field %(object)s")),
        (
            "importbatch",
            Action.IMPORT,
            gettext_lazy("Imported %(imported)s members from %(file_name)s"),
        ),
        ("merchant", Action.EXPORT, gettext_lazy("Exported %(count)s members as %(format)s")),
    ):
        audit_display.add_sentence(object_type, action, text)
