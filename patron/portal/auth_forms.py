"""Forms of joining and logging in. Field names are the contract (API.md §10: `mobile`, `code`).

They check the shape of the input; the members app's validation has the last word on every
field (register_member) and its messages are put back on these forms.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from patron.members.validation import Invalid, clean_date, normalize_mobile

MONTHS = [("", "—")] + [(f"{m:02d}", str(m)) for m in range(1, 13)]
DAYS = [("", "—")] + [(f"{d:02d}", str(d)) for d in range(1, 31)]


class MobileField(forms.CharField):
    """A mainland China mobile, as the members app reads one (+86, spaces, full-width digits)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Mobile number"))
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "numeric"}),
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        value = super().clean(value)
        if not value and not self.required:
            return ""
        try:
            return normalize_mobile(value)
        except Invalid as problem:
            raise forms.ValidationError(str(problem)) from None


class MobileForm(forms.Form):
    mobile = MobileField()


class CodeForm(forms.Form):
    mobile = MobileField(widget=forms.HiddenInput, required=False)
    code = forms.CharField(
        label=_("Code from the SMS"),
        min_length=6,
        max_length=6,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "one-time-code",
                "pattern": "[0-9]{6}",
                "maxlength": "6",
            }
        ),
    )


class JoinForm(forms.Form):
    """Step 1 of joining: who the member is and what they agree to (consents unticked, PIPL)."""

    mobile = MobileField()
    name = forms.CharField(label=_("Name"), max_length=50, required=False)
    birthday = forms.DateField(
        label=_("Birthday"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Or give your lunar birthday below."),
    )
    lunar_month = forms.ChoiceField(
        label=_("Lunar birthday: month"), choices=MONTHS, required=False
    )
    lunar_day = forms.ChoiceField(label=_("Lunar birthday: day"), choices=DAYS, required=False)
    consent_sms = forms.BooleanField(label=_("Offers and care messages by SMS"), required=False)
    consent_wechat = forms.BooleanField(label=_("Messages on WeChat"), required=False)
    consent_email = forms.BooleanField(label=_("Messages by email"), required=False)
    agree = forms.BooleanField(
        label=_("I have read and agree to the privacy policy"),
        error_messages={"required": _("Please read and agree to the privacy policy to join.")},
    )

    def clean_birthday(self) -> dt.date | None:
        try:
            return clean_date(self.cleaned_data.get("birthday"))
        except Invalid as problem:
            raise forms.ValidationError(str(problem)) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        month, day = cleaned.get("lunar_month"), cleaned.get("lunar_day")
        if bool(month) != bool(day):
            self.add_error("lunar_month", _("Choose both the lunar month and the day."))
        return cleaned

    def member_data(self) -> dict[str, Any]:
        """The cleaned input as register_member takes it (JSON-safe: it waits in the session)."""
        data = self.cleaned_data
        birthday = data.get("birthday")
        month, day = data.get("lunar_month"), data.get("lunar_day")
        return {
            "mobile": data["mobile"],
            "name": data.get("name") or "",
            "birthday": birthday.isoformat() if birthday else "",
            "lunar_birthday": f"{month}-{day}" if month and day else "",
            "consent_sms": bool(data.get("consent_sms")),
            "consent_wechat": bool(data.get("consent_wechat")),
            "consent_email": bool(data.get("consent_email")),
        }


# Where the members app's field errors go on the join form (the others go on top).
JOIN_ERROR_FIELDS = {
    "mobile": "mobile",
    "name": "name",
    "birthday": "birthday",
    "lunar_birthday": "lunar_month",
    "consent_sms": "consent_sms",
    "consent_wechat": "consent_wechat",
    "consent_email": "consent_email",
}
