"""Console forms of the alliance pages: the invitation and the counter's exchange."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from patron.network.alliance_services import MAX_POINTS, MAX_RATE_SIDE


class InviteForm(forms.Form):
    partner = forms.SlugField(
        label=_("Partner merchant (slug)"),
        max_length=50,
        help_text=_("The merchant's short name in Patron, as its HQ gives it to you."),
    )
    points = forms.IntegerField(label=_("Our points"), min_value=1, max_value=MAX_RATE_SIDE)
    partner_points = forms.IntegerField(
        label=_("Are worth their points"), min_value=1, max_value=MAX_RATE_SIDE
    )
    value_points = forms.IntegerField(
        label=_("For every … points issued"), min_value=1, max_value=MAX_RATE_SIDE, initial=100
    )
    value_amount = forms.IntegerField(
        label=_("The member's merchant owes (fen)"),
        min_value=0,
        max_value=MAX_RATE_SIDE,
        initial=100,
    )


class ExchangeForm(forms.Form):
    member = forms.CharField(
        label=_("Mobile or card number"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    points = forms.IntegerField(label=_("Points to move"), min_value=1, max_value=MAX_POINTS)
    nonce = forms.CharField(widget=forms.HiddenInput, max_length=64)
