"""The catalogue's part of the sale's one settings statement (patron.sales.sql.SETTINGS)."""

from __future__ import annotations

from patron.catalogue.models import Product
from patron.core import rawsql


def has_products_join(merchant_id: rawsql.Column) -> rawsql.Join:
    """Whether the merchant has an active product: a merchant without a catalogue sells
    without the look-up of its lines (the sale's statements stay as they were)."""
    product = rawsql.Table(Product, "cat")
    return rawsql.Join(
        columns=rawsql.Statement(
            "EXISTS (SELECT 1 FROM {cat} WHERE {cat.merchant_id} = {merchant_id}"
            " AND {cat.is_active})",
            cat=product,
            merchant_id=merchant_id,
        ),
        clause=rawsql.Statement(""),
        width=1,
    )
