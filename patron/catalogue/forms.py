"""The catalogue's console forms: the list's filters and a product's add / edit form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from patron.catalogue.models import MAX_PRODUCT_PRICE, Product
from patron.catalogue.services import TEXT_LIMITS
from patron.core.forms import ConsoleForm, ServiceErrorsMixin, YuanField, search_field
from patron.program.selectors import category_choices
from patron.tenancy.actor import Actor

STATUS_CHOICES = [
    ("active", _("On sale")),
    ("inactive", _("Deactivated")),
    ("all", _("All")),
]


class PriceField(YuanField):
    """A price in yuan, 0 allowed: a product priced at the till."""

    def validate(self, value: int | None) -> None:
        if value == 0:
            return
        super().validate(value)


class ProductFilterForm(ConsoleForm):
    """The list's search and filters; bad values are reported and ignored."""

    q = search_field(_("SKU, barcode or name"), max_length=64)
    category = forms.ChoiceField(label=_("Category"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUS_CHOICES)

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("All")), *category_choices(actor)]

    def criteria(self) -> dict[str, Any]:
        """Keyword arguments for `selectors.search_products`, valid filters only."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        status = cleaned.get("status") or "active"
        return {
            "q": cleaned.get("q") or "",
            "category": cleaned.get("category") or "",
            "active": {"active": True, "inactive": False}.get(status),
        }


class ProductForm(ServiceErrorsMixin, ConsoleForm):
    """Add a product (its SKU too) or change one (the SKU stays: sales name it)."""

    sku = forms.CharField(
        label=_("SKU"),
        max_length=64,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    name = forms.CharField(label=pgettext_lazy("product", "Name"), max_length=TEXT_LIMITS["name"])
    category = forms.ChoiceField(label=_("Category"))
    price = PriceField(
        label=_("Price (yuan)"),
        maximum=MAX_PRODUCT_PRICE,
        help_text=_("0: the cashier types the price at the till."),
    )
    barcode = forms.CharField(
        label=_("Barcode"),
        max_length=20,
        required=False,
        help_text=_("EAN-13, EAN-8 or UPC-A, as printed under the bars."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    brand = forms.CharField(label=_("Brand"), max_length=TEXT_LIMITS["brand"], required=False)
    size = forms.CharField(label=_("Size"), max_length=TEXT_LIMITS["size"], required=False)
    colour = forms.CharField(label=_("Colour"), max_length=TEXT_LIMITS["colour"], required=False)

    def __init__(self, *args: Any, actor: Actor, product: Product | None = None, **kwargs):
        if product is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "sku": product.sku,
                "name": product.name,
                "category": product.category.code,
                "price": f"{product.price // 100}.{product.price % 100:02d}",
                "barcode": product.barcode or "",
                "brand": product.brand,
                "size": product.size,
                "colour": product.colour,
            }
        super().__init__(*args, **kwargs)
        self.product = product
        self.fields["category"].choices = [("", _("— Choose —")), *category_choices(actor)]
        if product is not None:
            # The SKU names the product in sales and in the API: it is not edited.
            self.fields["sku"].disabled = True
            if not product.category.is_active:
                shown = (product.category.code, product.category.display_name)
                self.fields["category"].choices.append(shown)

    def service_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields = ("name", "category", "price", "barcode", "brand", "size", "colour")
        return {name: data.get(name) for name in fields}
