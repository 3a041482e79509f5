"""Forms of /m/privacy and of the staff's erasure page. Validation of the values themselves
(a future birthday, an email's shape) is the members service's: its errors land on these
fields through ServiceErrorsMixin, so the rules live in one place."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from patron.core.forms import ConsoleForm, DayField, ServiceErrorsMixin
from patron.ledger import payments
from patron.members.models import Gender, Member


class CorrectForm(ServiceErrorsMixin, ConsoleForm):
    name = forms.CharField(label=_("Name"), max_length=50, required=False)
    gender = forms.ChoiceField(label=_("Gender"), choices=Gender.choices, required=False)
    birthday = DayField(label=_("Birthday"), required=False)
    lunar_birthday = forms.CharField(
        label=_("Lunar birthday"),
        max_length=5,
        required=False,
        help_text=_("Month and day in the Chinese calendar, as MM-DD (e.g. 08-15)."),
    )
    email = forms.CharField(label=_("Email"), max_length=254, required=False)
    region = forms.CharField(label=_("Region"), max_length=60, required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    occupation = forms.CharField(label=_("Occupation"), max_length=60, required=False)

    @classmethod
    def for_member(cls, member: Member) -> CorrectForm:
        return cls(initial={name: getattr(member, name) for name in cls.base_fields})


class ConsentForm(ConsoleForm):
    consent_sms = forms.BooleanField(label=_("SMS offers and news"), required=False)
    consent_wechat = forms.BooleanField(label=_("WeChat offers and news"), required=False)
    consent_email = forms.BooleanField(label=_("Email offers and news"), required=False)

    @classmethod
    def for_member(cls, member: Member) -> ConsentForm:
        return cls(initial={name: getattr(member, name) for name in cls.base_fields})


class DeleteForm(ServiceErrorsMixin, ConsoleForm):
    understood = forms.BooleanField(
        label=_(
            "I understand what is refunded and what is forfeited, and that this cannot be undone."
        ),
        required=False,  # the service words the refusal: it knows what is at stake
    )


class CompleteForm(ServiceErrorsMixin, ConsoleForm):
    """Staff: pay the principal back and erase."""

    payment_method = forms.ChoiceField(
        label=_("Refund by"), choices=payments.CHOICES, initial=payments.CASH
    )
    identity_checked = forms.BooleanField(
        label=_("I checked the member's identity document."), required=True
    )
    pin = forms.CharField(
        label=_("Member's PIN"),
        max_length=12,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
