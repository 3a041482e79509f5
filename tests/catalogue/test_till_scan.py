"""The till's scan side through the test client: known codes add the catalogue's line, an
unknown one adds nothing and says so, a typed price is an audited override, favourites."""

from __future__ import annotations

import re
import uuid

import pytest
from django.core.cache import cache
from django.test import Client

from patron.sales.models import Sale, SaleLine
from patron.sales.services import LineInput, SaleRequest, commit_sale
from patron.tenancy.models import AuditEntry

pytestmark = pytest.mark.django_db
FRAGMENT = {"HX-Request": "true"}


@pytest.fixture
def till(cashier) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(cashier.staff.user)
    return client


def press(till: Client, op: str, **fields) -> str:
    body = {"key": str(uuid.uuid4()), "op": op, **fields}
    response = till.post("/cashier/quote/", body, headers=FRAGMENT)
    assert response.status_code == 200
    return response.content.decode()


def hidden(html: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" value="([^"]*)"', html)


def test_a_barcode_adds_the_catalogue_line_at_once(till, tea):
    html = press(till, "scan", scan="2*6901234567892")
    assert hidden(html, "line_sku") == ["TEA-LJ"]
    assert hidden(html, "line_qty") == ["2"]
    assert hidden(html, "line_typed") == ["0"]
    assert 'id="item-form"' not in html
    assert "明前龙井" in html and 'data-fen="7600"' in html


def test_an_unknown_code_adds_nothing_and_says_so(till, tea):
    html = press(till, "scan", scan="NOPE-1")
    assert hidden(html, "line_sku") == []
    assert 'id="unknown-code"' in html and "NOPE-1 is not in the product catalogue" in html


def test_a_category_shows_by_its_name(till, system, categories):
    from patron.catalogue.services import put_product

    put_product(system, "ROOM-STD", {"name": "标准间", "category": "rooms", "price": 32000})
    html = press(till, "scan", scan="ROOM-STD")
    assert "标准间" in html and ">rooms<" not in html
    # The form for a code the catalogue does not have offers categories by name.
    form = press(till, "scan", scan="NEW-1")
    assert '<option value="rooms">客房</option>' in form


def test_a_price_typed_at_the_till_is_an_audited_override(till, cashier, tea):
    lines = {
        "line_sku": "TEA-LJ",
        "line_category": "drinks",
        "line_price": "3000",
        "line_qty": "1",
        "line_name": "明前龙井",
    }
    # As the catalogue priced it (line_typed 0): the server's price, no audit.
    response = till.post("/cashier/commit/", {"key": str(uuid.uuid4()), **lines, "line_typed": "0"})
    assert response.status_code == 302
    assert Sale.objects.get().total == 3800
    assert not AuditEntry.objects.filter(object_type="saleline").exists()
    # Typed (line_typed 1): the cashier's price, audited with the cashier's name.
    response = till.post("/cashier/commit/", {"key": str(uuid.uuid4()), **lines, "line_typed": "1"})
    assert response.status_code == 302
    assert Sale.objects.latest("pk").total == 3000
    (entry,) = AuditEntry.objects.filter(object_type="saleline")
    assert entry.user == cashier.user and entry.changes == {"unit_price": [3800, 3000]}


def test_picking_a_product_adds_it(till, tea):
    html = press(till, "pick:TEA-LJ")
    assert hidden(html, "line_sku") == ["TEA-LJ"]


def test_favourites_are_the_stores_best_sellers_then_the_catalogue(till, system, tea, fish):
    cache.clear()
    for key in ("a", "b"):
        request = SaleRequest(lines=[LineInput("FISH", quantity=3)], store="S1")
        commit_sale(system, request, key=key)
    assert SaleLine.objects.count() == 2
    html = till.get("/cashier/products/favourites/").content.decode()
    assert re.findall(r'data-sku="([^"]+)"', html) == ["FISH", "TEA-LJ"]


def test_search_finds_by_pinyin_initials(till, tea, fish):
    html = till.get("/cashier/products/?product_q=xhcy").content.decode()
    assert re.findall(r'data-sku="([^"]+)"', html) == ["FISH"]
    assert "No product matches" in till.get("/cashier/products/?product_q=zzz").content.decode()
