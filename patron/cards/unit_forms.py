"""Console forms of agreement units, group enrolment and enrolling at the till. They collect
raw input; `patron.cards.units` and `patron.cards.enrolment` judge it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from patron.cards.units import present_unit
from patron.core.forms import ConsoleForm, ServiceErrorsMixin
from patron.members.models import AgreementUnit
from patron.tenancy.actor import Actor


def _text(label: Any, *, help_text: Any = "", required: bool = False, **attrs: Any):
    return forms.CharField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.TextInput(attrs={"autocomplete": "off", **attrs}),
    )


def discount_text(discount: dict[str, int]) -> str:
    return ", ".join(f"{category}={percent}" for category, percent in (discount or {}).items())


class UnitForm(ServiceErrorsMixin, ConsoleForm):
    code = _text(
        _("Code"), required=True, maxlength=32, help_text=_("e.g. ALIBABA; not changed later.")
    )
    name = _text(_("Unit name"), required=True, maxlength=100)
    discount = _text(
        _("Discount"),
        help_text=_(
            "Percent of the price by category, like tier prices: rooms=88 (8.8折), "
            "* for every category, e.g. rooms=85, *=95."
        ),
        placeholder="rooms=88, *=95",
    )
    contact_name = _text(_("Contact person"), maxlength=50)
    contact_mobile = _text(_("Contact mobile"), inputmode="tel")
    note = _text(_("Note"), maxlength=200)
    valid_until = forms.CharField(
        label=_("Agreement valid until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    is_active = forms.BooleanField(label=_("In use"), required=False, initial=True)

    def __init__(self, *args: Any, actor: Actor, unit: AgreementUnit | None = None, **kwargs):
        self.actor, self.unit = actor, unit
        if unit is not None:
            shown = present_unit(actor, unit)
            kwargs.setdefault(
                "initial",
                {
                    **shown,
                    "discount": discount_text(unit.discount),
                    "valid_until": unit.valid_until.isoformat() if unit.valid_until else "",
                },
            )
        super().__init__(*args, **kwargs)
        if unit is not None:
            self.fields["code"].disabled = True
            if not actor.sees_personal_data and unit.contact_mobile:
                # A masked role keeps the number it cannot see (F-45): not in an input.
                del self.fields["contact_mobile"]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("code", None)
        return data


class GroupForm(ConsoleForm):
    people = forms.CharField(
        label=_("People"),
        required=False,
        help_text=_("One a line: mobile, then the name (comma, tab or space between)."),
        widget=forms.Textarea(attrs={"rows": 8, "placeholder": "13800138000, 张三"}),
    )
    file = forms.FileField(
        label=_("Or a file"),
        required=False,
        help_text=_(".xlsx or .csv with a header row: 手机号 (mobile), 姓名 (name)."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not cleaned.get("people", "").strip() and not cleaned.get("file"):
            raise forms.ValidationError(_("Paste some people or choose a file."))
        return cleaned


class EnrolFromSaleForm(ServiceErrorsMixin, ConsoleForm):
    mobile = _text(_("Mobile"), required=True, inputmode="tel", placeholder="138 0013 8000")
    name = _text(_("Name"), maxlength=50)
    birthday = forms.CharField(
        label=_("Birthday"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, min_age: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if min_age is None:
            del self.fields["birthday"]
        else:
            self.fields["birthday"].required = True
            self.fields["birthday"].help_text = _("Members must be at least %(age)d.") % {
                "age": min_age
            }

    def service_data(self) -> dict[str, Any]:
        return dict(self.cleaned_data)
