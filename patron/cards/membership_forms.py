"""Console forms for paid memberships and the PIN reset on the member page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from patron.cards.models import CardProduct
from patron.core.forms import ConsoleForm, OneTimeTokenMixin, ServiceErrorsMixin
from patron.ledger import payments


def paid_products(merchant) -> list[CardProduct]:
    return list(
        CardProduct.objects.filter(merchant=merchant, is_active=True, paid_days__isnull=False)
    )


class BuyForm(ServiceErrorsMixin, OneTimeTokenMixin, ConsoleForm):
    errors_by_code = {"unknown_product": "product", "not_a_paid_membership": "product"}

    product = forms.ChoiceField(label=_("Paid membership"))
    payment_method = forms.ChoiceField(
        label=_("Payment method"), choices=payments.CHOICES, initial=payments.CASH
    )
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, merchant, needs_token: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.products = {p.code: p for p in paid_products(merchant)}
        self.fields["product"].choices = [
            (code, product.name) for code, product in self.products.items()
        ]
        self.needs_token = needs_token

    def clean_token(self) -> str:
        return super().clean_token() if self.needs_token else ""

    @property
    def chosen(self) -> CardProduct | None:
        return self.products.get(self.cleaned_data.get("product", ""))


class RefundForm(ServiceErrorsMixin, OneTimeTokenMixin, ConsoleForm):
    payment_method = forms.ChoiceField(
        label=_("Pay back by"), choices=payments.CHOICES, initial=payments.CASH
    )
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, needs_token: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.needs_token = needs_token

    def clean_token(self) -> str:
        return super().clean_token() if self.needs_token else ""


class PinResetForm(ServiceErrorsMixin, ConsoleForm):
    pin = forms.CharField(
        label=_("New PIN"),
        max_length=12,
        widget=forms.PasswordInput(
            attrs={"inputmode": "numeric", "autocomplete": "new-password", "maxlength": 6}
        ),
    )
    pin_again = forms.CharField(
        label=_("New PIN again"),
        max_length=12,
        widget=forms.PasswordInput(
            attrs={"inputmode": "numeric", "autocomplete": "new-password", "maxlength": 6}
        ),
    )
    identity_checked = forms.BooleanField(
        label=_("I checked the member's identity (ID card)"), required=False
    )

    def clean(self):
        data = super().clean()
        if data.get("pin") and data.get("pin_again") and data["pin"] != data["pin_again"]:
            self.add_error("pin_again", _("The two PINs differ."))
        return data
