"""The audit log names a product's category by its name, never by its row id."""

from __future__ import annotations

import re

import pytest

from patron.catalogue.services import put_product
from tests.console.conftest import logged_in

pytestmark = pytest.mark.django_db


def audit_text(client) -> str:
    html = client.get("/audit/", {"object_type": "product"}).content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_products_category_reads_as_its_name(hq, tea):
    put_product(hq, "TEA-LJ", {"name": "明前龙井", "category": "rooms", "price": 3800})
    english = audit_text(logged_in(hq, "en"))
    # `drinks` has no name: its code stands for it; a row id never does
    assert "drinks → 客房" in english
    assert f"{tea.category_id} → " not in english
