from __future__ import annotations

import pytest

from patron.catalogue.services import put_product
from patron.program.services import apply_program

PROGRAM = {
    "categories": [
        {"code": "rooms", "name": "客房"},
        {"code": "dishes", "name": "餐饮"},
        "drinks",
    ]
}


@pytest.fixture
def categories(system, stores):
    apply_program(system, PROGRAM)


@pytest.fixture
def tea(system, categories):
    body = {"name": "明前龙井", "category": "drinks", "price": 3800, "barcode": "6901234567892"}
    return put_product(system, "TEA-LJ", body).product


@pytest.fixture
def fish(system, categories):
    body = {"name": "西湖醋鱼", "category": "dishes", "price": 6800, "barcode": "6901234567809"}
    return put_product(system, "FISH", body).product
