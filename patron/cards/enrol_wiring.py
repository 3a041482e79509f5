"""What the enrol part of cards registers with the apps below it (hooks, guards, profile facts
and panels, audit sentences, import columns), called once from CardsConfig.ready()."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from patron.cards import enrolment, units
from patron.members import hooks, profile
from patron.members.models import AgreementUnit, Member
from patron.sales import receipt_panels
from patron.sales.models import Sale
from patron.tenancy import audit_display
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Role

# Who may enrol a customer from the receipt: whoever sells.
ENROL_ROLES = (Role.HQ_ADMIN, Role.STORE_MANAGER, Role.CASHIER)


def unit_fact(member: Member) -> dict[str, Any] | None:
    if member.agreement_unit_id is None:
        return None
    unit = member.agreement_unit
    return {"code": unit.code, "name": unit.name}


def with_unit(members):
    return members.select_related("agreement_unit")


def unit_panel(request: HttpRequest, member: Member) -> SafeString | str:
    if member.agreement_unit_id is None:
        return ""
    unit = member.agreement_unit
    today = enrolment.local_today(request.actor.merchant)
    names = units.category_names(unit.merchant_id)
    context = {
        "unit": unit,
        "current": units.is_current(unit, today),
        "discount": units.discount_shown(unit.discount, names),
    }
    return render_to_string("cards/units/_member_unit.html", context, request=request)


def registration_fields(actor: Actor) -> dict[str, forms.Field]:
    """The console's registration form asks for qualifying sales when a purchase rule holds,
    and offers the current agreement units."""
    fields: dict[str, forms.Field] = {}
    policy = enrolment.policy_for(actor.merchant)
    if enrolment.asks_purchase(policy):
        fields["qualifying_sales"] = forms.CharField(
            label=_("Qualifying sales"),
            required=False,
            help_text=_("Receipt numbers of the customer's sales, e.g. 1024, 1031. To join: %s.")
            % enrolment.rule_in_words(policy),
            widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
        )
    today = enrolment.local_today(actor.merchant)
    current = [
        unit
        for unit in AgreementUnit.objects.filter(merchant=actor.merchant, is_active=True)
        if units.is_current(unit, today)
    ]
    if current:
        fields["agreement_unit"] = forms.ChoiceField(
            label=_("Agreement unit"),
            required=False,
            choices=[("", "—"), *((unit.code, unit.name) for unit in current)],
        )
    return fields


def receipt_offer(request: HttpRequest, sale: Sale) -> SafeString | str:
    """On an anonymous sale's receipt: "This customer qualifies to join" and a form to enrol
    them in one step (without purchase rules: simply an offer to enrol)."""
    if request.actor.role not in ENROL_ROLES:
        return ""
    offer = enrolment.offer_for(sale)
    if offer is None:
        return ""
    from patron.cards.unit_forms import EnrolFromSaleForm

    form = getattr(request, "enrol_form", None) or EnrolFromSaleForm(min_age=offer.min_age)
    context = {"offer": offer, "form": form}
    return render_to_string("cards/units/_receipt_offer.html", context, request=request)


def register_audit_sentences() -> None:
    action = AuditEntry.Action
    audit_display.add_object_type("agreementunit", gettext_lazy("agreement unit"))
    for object_type, verb, text in (
        ("agreementunit", action.CREATE, gettext_lazy("Added the agreement unit %(object)s")),
        ("agreementunit", action.UPDATE, gettext_lazy("Changed the agreement unit %(object)s")),
        ("sale", action.UPDATE, gettext_lazy("Made %(object)s the new member's")),
    ):
        audit_display.add_sentence(object_type, verb, text)


def register() -> None:
    register_audit_sentences()
    hooks.add_registration_check(
        enrolment.check_registration, keys=("agreement_unit", "qualifying_sales")
    )
    hooks.add_after_registration(enrolment.attach_after_registration)
    hooks.add_registration_fields(registration_fields)
    profile.add_fact(profile.Fact("agreement_unit", unit_fact, prepare=with_unit))
    profile.add_panel(profile.Panel("side", unit_panel, order=15))
    receipt_panels.add_receipt_panel(receipt_offer)
