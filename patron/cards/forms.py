"""Console forms of the card wizards: report lost, replace, exchange, bind, refund and close.

Each carries a one-time token (the service's idempotency key), so a double click is one step.
The services keep the last word: their refusals come back onto these forms.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from patron.core.forms import ConsoleForm, OneTimeTokenMixin, ServiceErrorsMixin, search_field
from patron.ledger import payments


class CardSearchForm(ConsoleForm):
    q = search_field(_("Card number, physical card id or mobile"), max_length=64)


class CardStepForm(ServiceErrorsMixin, OneTimeTokenMixin, ConsoleForm):
    token = forms.CharField(widget=forms.HiddenInput, required=False)


def physical_id_field(required: bool = False) -> forms.CharField:
    return forms.CharField(
        label=_("Physical card id"),
        required=required,
        max_length=64,
        help_text=_("Scan the new card, or type the number printed on it."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": 64}),
    )


def tender_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label=_("Fee paid by"), choices=payments.CHOICES, initial=payments.CASH, required=False
    )


class ReportLostForm(CardStepForm):
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": 200}),
    )


class ReplaceForm(CardStepForm):
    physical_id = physical_id_field()
    payment_method = tender_field()


class BindForm(CardStepForm):
    physical_id = physical_id_field(required=True)


class RefundForm(CardStepForm):
    errors_by_code = {
        "identity_not_checked": "identity_checked",
        "pin_required": "pin",
        "pin_locked": "pin",
        "pin_invalid": "pin",
    }

    identity_checked = forms.BooleanField(
        label=_("I checked the member's identity document"), required=False
    )
    pin = forms.CharField(
        label=_("Member's PIN"),
        required=False,
        max_length=20,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    payment_method = forms.ChoiceField(
        label=_("Paid back by"), choices=payments.CHOICES, initial=payments.CASH, required=False
    )
