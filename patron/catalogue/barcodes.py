"""Retail barcodes: EAN-13 (China's start with 69), EAN-8 and UPC-A, with their check digit.

The check digit is python-stdnum's (`stdnum.ean`); the lengths are the ones a till scans on
goods (stdnum also takes GTIN-14, which is printed on cartons, not on what a cashier sells).
"""

from __future__ import annotations

from stdnum import ean
from stdnum.exceptions import ValidationError

from patron.core.text import ascii_digits

LENGTHS = (8, 12, 13)


def clean_barcode(raw: str) -> str | None:
    """ASCII digits (spaces and dashes printed under the bars dropped, full-width digits read),
    or None when anything else is left."""
    return ascii_digits(raw.strip().replace(" ", "").replace("-", ""))


def is_valid_barcode(code: str) -> bool:
    if len(code) not in LENGTHS or not code.isdigit():
        return False
    try:
        ean.validate(code)
    except ValidationError:
        return False
    return True


def with_check_digit(stem: str) -> str:
    """`stem` (7, 11 or 12 digits) with its check digit appended: how demo codes are made."""
    return stem + ean.calc_check_digit(stem)
