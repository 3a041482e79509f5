"""Products (商品, F-21/F-22/F-33): what a till scans and a sale line names.

A product is known by its SKU (unique per merchant) and, when it has one, its barcode (EAN-13,
EAN-8 or UPC-A, unique per merchant). Its category is one of the program's categories; its price
is in fen, 0 meaning "priced at the till". Products are never deleted, only deactivated: old
sales keep naming them.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

MAX_PRODUCT_PRICE = 10**9  # fen: ten million yuan, above anything a shop or hotel sells


class Product(models.Model):
    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    sku = models.CharField(_("SKU"), max_length=64)
    barcode = models.CharField(_("barcode"), max_length=13, null=True, blank=True)
    name = models.CharField(pgettext_lazy("product", "name"), max_length=100)
    # The name's pinyin initials (明前龙井 -> mqlj): how a cashier types a search at the till.
    initials = models.CharField(max_length=100, blank=True, editable=False)
    category = models.ForeignKey(
        "program.Category",
        on_delete=models.PROTECT,
        related_name="products",
        verbose_name=_("category"),
    )
    price = models.BigIntegerField(_("price"))
    brand = models.CharField(_("brand"), max_length=60, blank=True)
    size = models.CharField(_("size"), max_length=30, blank=True)
    colour = models.CharField(_("colour"), max_length=30, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["category__position", "sku"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "sku"], name="uniq_product_sku"),
            models.UniqueConstraint(
                fields=["merchant", "barcode"],
                condition=models.Q(barcode__isnull=False),
                name="uniq_product_barcode",
            ),
            models.CheckConstraint(
                condition=models.Q(price__gte=0, price__lte=MAX_PRODUCT_PRICE),
                name="product_price_in_range",
            ),
        ]
        indexes = [models.Index(fields=["merchant", "is_active", "name"])]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"
