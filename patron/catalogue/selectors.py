"""Every read of the catalogue, scoped to the actor's merchant.

`resolve` is what a till or a sale line does with a code: a SKU first, then a barcode, active
products only. `favourite_products` fills the till's touch grid with what the store sells most.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence

from django.db.models import Q, QuerySet
from django.utils import timezone

from patron.catalogue.barcodes import clean_barcode
from patron.catalogue.models import Product
from patron.core.errors import NotFound
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant, Store
from patron.tenancy.selectors import scoped

FAVOURITE_DAYS = 30
# (merchant, store, since, limit) -> SKUs, best selling first. Sales are a floor above the
# catalogue: the sales app registers how it ranks them (SalesConfig.ready()).
SalesRanking = Callable[[Merchant, Store, dt.datetime, int], Sequence[str]]
_sales_ranking: list[SalesRanking] = []


def register_sales_ranking(ranking: SalesRanking) -> None:
    _sales_ranking[:] = [ranking]


def products(actor: Actor) -> QuerySet[Product]:
    return scoped(Product.objects.select_related("category"), actor, store_field=None)


def search_products(
    actor: Actor,
    q: str = "",
    *,
    category: str = "",
    barcode: str = "",
    active: bool | None = None,
) -> QuerySet[Product]:
    """Products whose SKU or name contains `q`, whose barcode starts with it or whose name's
    pinyin initials do (mqlj finds 明前龙井), in the catalogue's order."""
    found = products(actor)
    q = q.strip()
    if q:
        found = found.filter(
            Q(sku__icontains=q)
            | Q(barcode__startswith=clean_barcode(q) or q)
            | Q(name__icontains=q)
            | Q(initials__startswith=q.lower().replace(" ", ""))
        )
    if category:
        found = found.filter(category__code=category)
    if barcode:
        found = found.filter(barcode=clean_barcode(barcode) or barcode.strip())
    if active is not None:
        found = found.filter(is_active=active)
    return found


def product_for_sku(actor: Actor, sku: str) -> Product:
    """The product with this SKU, active or not; NotFound otherwise (another merchant's too)."""
    product = products(actor).filter(sku=sku).first()
    if product is None:
        raise NotFound(f"No product with SKU {sku}")
    return product


def product_for_barcode(actor: Actor, barcode: str) -> Product | None:
    code = clean_barcode(barcode)
    return products(actor).filter(barcode=code).first() if code else None


def resolve(actor: Actor, sku_or_barcode: str) -> Product | None:
    """The active product a scanned or typed code names: its SKU, else its barcode."""
    code = sku_or_barcode.strip()
    if not code:
        return None
    active = products(actor).filter(is_active=True)
    found = active.filter(sku=code).first()
    if found is None:
        barcode = clean_barcode(code)
        found = active.filter(barcode=barcode).first() if barcode else None
    return found


def is_deactivated(merchant: Merchant, code: str) -> bool:
    """Whether `code` names a product (by SKU or barcode) that has been deactivated: a sale
    refused for it can say so rather than "not in the catalogue"."""
    code = code.strip()
    barcode = clean_barcode(code) or code
    named = Q(sku=code) | Q(barcode=barcode) if code else Q(pk__in=[])
    return Product.objects.filter(named, merchant=merchant, is_active=False).exists()


def resolve_many(
    merchant: Merchant, skus: Iterable[str], barcodes: Iterable[str]
) -> tuple[dict[str, Product], dict[str, Product]]:
    """Active products by SKU and by barcode for a whole basket, in one query."""
    skus, barcodes = set(skus), {clean_barcode(b) or b for b in barcodes}
    if not skus and not barcodes:
        return {}, {}
    found = Product.objects.select_related("category").filter(
        Q(sku__in=skus) | Q(barcode__in=barcodes), merchant=merchant, is_active=True
    )
    by_sku, by_barcode = {}, {}
    for product in found:
        if product.sku in skus:
            by_sku[product.sku] = product
        if product.barcode in barcodes:
            by_barcode[product.barcode] = product
    return by_sku, by_barcode


def favourite_products(actor: Actor, store: Store | None, limit: int = 12) -> list[Product]:
    """The store's most sold active products of the last 30 days, topped up with the catalogue
    in its own order (a new store, or a quiet month, still gets a full grid)."""
    active = list(products(actor).filter(is_active=True)[: limit * 4])
    ranked: Sequence[str] = ()
    if store is not None and _sales_ranking:
        since = timezone.now() - dt.timedelta(days=FAVOURITE_DAYS)
        ranked = _sales_ranking[0](actor.merchant, store, since, limit * 2)
    best = {
        product.sku: product
        for product in products(actor).filter(is_active=True, sku__in=list(ranked))
    }
    chosen = [best[sku] for sku in ranked if sku in best][:limit]
    taken = {product.sku for product in chosen}
    chosen += [product for product in active if product.sku not in taken][: limit - len(chosen)]
    return chosen
