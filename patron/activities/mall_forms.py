"""Console forms of the points mall: redeem for a member, fulfil, the report's period."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from patron.ledger import payments


class RedeemForm(forms.Form):
    """One reward for one member; `nonce` makes a double submit one redemption."""

    member = forms.IntegerField(widget=forms.HiddenInput)
    reward = forms.CharField(max_length=32, widget=forms.HiddenInput)
    method = forms.ChoiceField(
        label=_("Cash part paid by"),
        choices=payments.CHOICES,
        initial=payments.CASH,
        required=False,
    )
    nonce = forms.CharField(max_length=64, widget=forms.HiddenInput)

    @staticmethod
    def new_nonce() -> str:
        return uuid.uuid4().hex


class FulfilForm(forms.Form):
    tracking_no = forms.CharField(
        label=_("Tracking number"),
        max_length=64,
        required=False,
        help_text=_("Leave empty when handed over in store."),
    )
    method = forms.ChoiceField(
        label=_("Cash still due paid by"),
        choices=payments.CHOICES,
        initial=payments.CASH,
        required=False,
    )


class PeriodForm(forms.Form):
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("Must not be before the start."))
        return cleaned
