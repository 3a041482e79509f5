"""The till's catalogue panel (F-50): a product search and the store's favourites grid.

Both answer a fragment of product buttons; a button posts `pick:SKU` with the till's basket
(patron.sales.till.op_pick), so the server adds the line with the catalogue's name and price.
"""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from patron.catalogue import selectors as catalogue
from patron.sales.forms import StoreQuery, clean_text
from patron.sales.views import chosen_store, may_sell
from patron.tenancy.models import Store

SEARCH_RESULTS = 12
FAVOURITES = 16  # the till's catalogue column holds two buttons a row, eight rows at 768 px
FAVOURITES_SECONDS = 300  # a store's best sellers change by the day, not by the minute


@may_sell
@require_GET
def products(request: HttpRequest) -> HttpResponse:
    """Active products matching what the cashier typed (name, pinyin initials, SKU, barcode)."""
    searched = clean_text(request.GET.get("product_q"), 64)
    found = []
    if searched:
        found = list(
            catalogue.search_products(request.actor, searched, active=True)[:SEARCH_RESULTS]
        )
    context = {"products": found, "searched": searched}
    return render(request, "sales/_product_buttons.html", context)


@may_sell
@require_GET
def favourites(request: HttpRequest) -> HttpResponse:
    """The store's best sellers of the last 30 days, then the catalogue's first products."""
    store = chosen_store(request, StoreQuery(request.GET))
    context = {"products": favourite_products(request, store), "searched": ""}
    return render(request, "sales/_product_buttons.html", context)


def favourite_products(request: HttpRequest, store: Store | None) -> list:
    actor = request.actor
    key = f"till-favourites:{actor.merchant.pk}:{store.pk if store else 0}"
    skus = cache.get(key)
    if skus is None:
        skus = [p.sku for p in catalogue.favourite_products(actor, store, FAVOURITES)]
        cache.set(key, skus, FAVOURITES_SECONDS)
    # The products themselves are read fresh: a price or a name changed shows at once.
    found = {p.sku: p for p in catalogue.products(actor).filter(sku__in=skus, is_active=True)}
    return [found[sku] for sku in skus if sku in found]
