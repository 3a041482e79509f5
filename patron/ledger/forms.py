"""Console forms of the ledger's own pages (the liabilities report)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class LiabilitiesForm(forms.Form):
    as_of = forms.DateField(
        label=_("As of the end of"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Leave empty for now."),
    )
