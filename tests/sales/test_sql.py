"""The sale line's fields are defined once: the columns by SaleLine, the priced ones by the
engine's PricedLine; the rows written and the answer given are built from those."""

from __future__ import annotations

import dataclasses

from patron.core import rawsql
from patron.engine import pricing
from patron.sales import sql
from patron.sales.models import Sale, SaleLine
from patron.sales.schemas import LineOut
from patron.sales.services import LineInput


def test_a_line_row_fills_every_column_but_the_sale():
    priced = pricing.PricedLine("TEA", "drinks", 2, 500, 450, 100, 10, 890, 8)
    gift = dataclasses.replace(priced, sku="CUP", gift=True)
    rows = sql.line_rows(
        [priced, gift],
        [LineInput("TEA", "drinks", 2, 500, name="龙井" * 60, colour="绿")],
        merchant_id=1,
        store_id=2,
        occurred_at="2026-01-01 00:00:00",
    )
    assert [set(row) for row in rows] == [set(sql.LINE_COLUMNS) - {"sale_id"}] * 2
    assert rows[0]["name"] == ("龙井" * 60)[: SaleLine._meta.get_field("name").max_length]
    assert (rows[0]["colour"], rows[1]["name"], rows[1]["gift"]) == ("绿", "", True)
    assert rows[1]["position"] == 1 and rows[1]["refunded_quantity"] == 0


def test_the_answer_shows_the_priced_fields_of_a_line():
    assert (*sql.PRICED_FIELDS, "refunded_quantity") == tuple(LineOut.model_fields)
    assert set(sql.PRICED_FIELDS) <= set(sql.LINE_COLUMNS)


def test_a_sale_is_inserted_with_every_column_but_what_posting_sets():
    posted = {Sale._meta.get_field(name).attname for name in sql.POSTED}
    assert set(sql.SALE_COLUMNS) == set(rawsql.insert_fields(Sale)) - posted
    assert posted == {"points_spend_id", "stored_value_payment_id", "points_earn_id"} | {
        "points_hold_id"
    }
