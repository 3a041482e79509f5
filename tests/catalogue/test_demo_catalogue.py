"""The demo chain's catalogue: realistic size, valid barcodes, every SKU the demo sells."""

from __future__ import annotations

from patron.catalogue.barcodes import is_valid_barcode
from patron.demo.catalogue import CATEGORIES, PRODUCTS, barcode_of
from patron.demo.data import CATALOGUE, DEMO_PROGRAM


def test_sixty_to_a_hundred_and_fifty_products_with_valid_chinese_barcodes():
    assert 60 <= len(PRODUCTS) <= 150
    assert len({row[0] for row in PRODUCTS}) == len(PRODUCTS)
    barcodes = [barcode_of(i) for i in range(len(PRODUCTS))]
    assert all(code.startswith("69") and is_valid_barcode(code) for code in barcodes)
    assert len(set(barcodes)) == len(barcodes)
    codes = {c["code"] for c in CATEGORIES}
    assert {row[2] for row in PRODUCTS} == codes == {"rooms", "dishes", "drinks", "retail"}
    assert all(row[3] > 0 for row in PRODUCTS)


def test_every_sku_the_demo_sells_or_gives_is_in_it_at_the_same_price():
    products = {row[0]: row for row in PRODUCTS}
    for sku, _name, category, price, *_rest in CATALOGUE:
        assert (products[sku][2], products[sku][3]) == (category, price)
    for template in DEMO_PROGRAM["coupon_templates"]:
        benefit = template["benefit"]
        for sku in benefit.get("skus", []) + ([benefit["sku"]] if "sku" in benefit else []):
            assert sku in products


def test_the_barcode_check_digit():
    assert is_valid_barcode("6901234567892") and not is_valid_barcode("6901234567890")
    assert is_valid_barcode("96385074")  # EAN-8
    assert is_valid_barcode("036000291452")  # UPC-A
    assert not is_valid_barcode("69012345678921")  # GTIN-14: cartons, not the till
    assert not is_valid_barcode("69O1234567892")
