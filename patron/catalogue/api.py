"""The catalogue endpoints (API.md §6): put a product by SKU, find products, read one."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field as NinjaField
from ninja import Path, Query, Router, Schema, Status

from patron.catalogue import selectors, services
from patron.catalogue.models import Product
from patron.catalogue.schemas import ProductIn, ProductOut, ProductPage
from patron.core.apitypes import STRIPPED
from patron.core.problems import Problem

router = Router(tags=["catalogue"])
ERRORS = {401: Problem, 404: Problem, 409: Problem, 422: Problem}
# What services.clean_sku takes: no whitespace (str.isspace(), as STRIPPED spells it), no NUL.
SkuInPath = Path[str, {"min_length": 1, "max_length": 64, "pattern": f"^[^\\x00{STRIPPED}]+$"}]


class ProductFilters(Schema):
    q: str = NinjaField("", max_length=64, description="Part of the SKU, barcode or name")
    category: str = NinjaField("", max_length=40, description="A category code")
    barcode: str = NinjaField("", max_length=20, description="The whole barcode")
    active: bool | None = NinjaField(None, description="Only active (true) or inactive (false)")
    page: int = NinjaField(1, ge=1, le=100000)
    page_size: int = NinjaField(50, ge=1, le=200)


def present_product(product: Product) -> dict[str, Any]:
    return {
        "sku": product.sku,
        "barcode": product.barcode,
        "name": product.name,
        "category": product.category.code,
        "category_name": product.category.display_name,
        "price": product.price,
        "brand": product.brand,
        "size": product.size,
        "colour": product.colour,
        "active": product.is_active,
        "created_at": product.created_at,
        "updated_at": product.updated_at,
    }


@router.put(
    "/products/{sku}",
    response={200: ProductOut, 201: ProductOut, **ERRORS},
    summary="Create or update a product",
)
def put_product(request: HttpRequest, sku: SkuInPath, payload: ProductIn):
    """201 when the SKU is new, 200 when it was there (the same body twice changes nothing)."""
    put = services.put_product(request.actor, sku, payload.model_dump(exclude_unset=True))
    return Status(201 if put.created else 200, present_product(put.product))


@router.get("/products", response={200: ProductPage, **ERRORS}, summary="Find products")
def list_products(request: HttpRequest, filters: Query[ProductFilters]):
    found = selectors.search_products(
        request.actor,
        filters.q,
        category=filters.category,
        barcode=filters.barcode,
        active=filters.active,
    )
    start = (filters.page - 1) * filters.page_size
    page = list(found[start : start + filters.page_size])
    return {
        "items": [present_product(product) for product in page],
        "count": found.count(),
        "page": filters.page,
        "page_size": filters.page_size,
    }


@router.get("/products/{sku}", response={200: ProductOut, **ERRORS}, summary="One product")
def get_product(request: HttpRequest, sku: SkuInPath):
    return present_product(selectors.product_for_sku(request.actor, sku))
