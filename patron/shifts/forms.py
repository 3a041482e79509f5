"""What the shift close page posts: the cash the cashier counted in the drawer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from patron.core.forms import ConsoleForm, ServiceErrorsMixin, parse_yuan
from patron.sales.services import MAX_PRICE
from patron.shifts.services import NOTE_LENGTH


class CloseShiftForm(ServiceErrorsMixin, ConsoleForm):
    cash_counted = forms.CharField(
        label=_("Cash counted in the drawer (yuan)"),
        max_length=24,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    note = forms.CharField(label=_("Note"), max_length=NOTE_LENGTH, required=False)
    # Where the shift on the page started: a second close of it is refused.
    since = forms.DateTimeField(widget=forms.HiddenInput, required=False)

    def clean_cash_counted(self) -> int:
        fen = parse_yuan(self.cleaned_data["cash_counted"])
        if not 0 <= fen <= MAX_PRICE:
            raise forms.ValidationError(_("Enter the cash counted, 0 or more."))
        return fen

    def since_value(self) -> dt.datetime | None:
        return self.cleaned_data.get("since")

    @classmethod
    def for_window(cls, since: dt.datetime, **kwargs: Any) -> CloseShiftForm:
        return cls(initial={"since": since.isoformat()}, **kwargs)
