"""The catalogue API's bodies (API.md §6); the limits are the services' and the model's."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Field, Schema
from pydantic import ConfigDict

from patron.catalogue.barcodes import LENGTHS
from patron.catalogue.models import MAX_PRODUCT_PRICE
from patron.catalogue.services import TEXT_LIMITS
from patron.core.apitypes import NOT_BLANK, counted, documented

# Digits with a valid check digit (the services check it, with their own message).
BARCODE_PATTERN = "^(" + "|".join(f"[0-9]{{{n}}}" for n in LENGTHS) + ")?$"

Price = counted(0, MAX_PRODUCT_PRICE, "Fen per unit, 0 or more (0: priced at the till)")
Name = Annotated[
    str,
    Field(max_length=TEXT_LIMITS["name"], json_schema_extra=documented(pattern=NOT_BLANK)),
]
Barcode = Annotated[
    str,
    Field(
        max_length=20,
        description="EAN-13, EAN-8 or UPC-A with its check digit; empty or null: none",
        json_schema_extra=documented(pattern=BARCODE_PATTERN),
    ),
]


class ProductIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: Name
    category: str = Field(..., max_length=40, description="One of the program's categories")
    price: Price
    barcode: Barcode | None = None
    brand: str | None = Field(None, max_length=TEXT_LIMITS["brand"])
    size: str | None = Field(None, max_length=TEXT_LIMITS["size"])
    colour: str | None = Field(None, max_length=TEXT_LIMITS["colour"])
    active: bool | None = Field(None, description="false: no longer sold (kept for history)")


class ProductOut(Schema):
    sku: str
    barcode: str | None
    name: str
    category: str
    category_name: str
    price: int
    brand: str
    size: str
    colour: str
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class ProductPage(Schema):
    items: list[ProductOut]
    count: int
    page: int
    page_size: int
