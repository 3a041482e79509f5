"""The catalogue page (/catalogue/): search, add, edit, deactivate; who may change products."""

from __future__ import annotations

import pytest

from patron.catalogue.models import Product
from patron.catalogue.services import put_product
from patron.program.services import apply_program
from patron.tenancy.models import AuditEntry
from tests.console.conftest import logged_in

pytestmark = pytest.mark.django_db

PROGRAM = {"categories": [{"code": "rooms", "name": "客房"}, {"code": "drinks", "name": "酒水"}]}


@pytest.fixture
def catalogue(system, stores):
    apply_program(system, PROGRAM)
    put_product(system, "TEA-LJ", {"name": "明前龙井", "category": "drinks", "price": 3800})
    put_product(system, "ROOM-STD", {"name": "湖景标准间", "category": "rooms", "price": 32000})
    return Product.objects.get(sku="TEA-LJ")


def test_the_list_shows_names_not_codes_and_searches(hq_client, catalogue):
    page = hq_client.get("/catalogue/").content.decode()
    assert "明前龙井" in page and "湖景标准间" in page
    assert "酒水" in page and ">drinks<" not in page
    found = hq_client.get("/catalogue/?q=龙井", headers={"HX-Request": "true"}).content.decode()
    assert "TEA-LJ" in found and "ROOM-STD" not in found
    rooms = hq_client.get("/catalogue/?category=rooms").content.decode()
    assert "ROOM-STD" in rooms and "TEA-LJ" not in rooms


def test_hq_adds_a_product_in_yuan(hq_client, catalogue):
    body = {"sku": "BEER", "name": "西湖啤酒", "category": "drinks", "price": "8.50"}
    answer = hq_client.post("/catalogue/new/", body)
    assert answer.status_code == 302
    beer = Product.objects.get(sku="BEER")
    assert (beer.price, beer.category.code) == (850, "drinks")


def test_a_bad_barcode_or_a_taken_sku_stays_on_the_form(hq_client, catalogue):
    body = {"sku": "BEER", "name": "啤酒", "category": "drinks", "price": "8", "barcode": "123"}
    answer = hq_client.post("/catalogue/new/", body)
    assert answer.status_code == 200 and "EAN-13" in answer.content.decode()
    taken = hq_client.post("/catalogue/new/", body | {"sku": "TEA-LJ", "barcode": ""})
    assert taken.status_code == 200
    assert Product.objects.get(sku="TEA-LJ").name == "明前龙井"
    assert not Product.objects.filter(sku="BEER").exists()


def test_a_store_manager_edits_and_the_change_is_audited(manager_client, catalogue):
    body = {"sku": "ignored", "name": "明前龙井", "category": "drinks", "price": "42"}
    answer = manager_client.post(f"/catalogue/{catalogue.pk}/edit/", body)
    assert answer.status_code == 302
    catalogue.refresh_from_db()
    assert (catalogue.sku, catalogue.price) == ("TEA-LJ", 4200)
    entry = AuditEntry.objects.filter(object_type="product", action="update").get()
    assert entry.changes == {"price": [3800, 4200]}


def test_deactivate_and_reactivate(hq_client, catalogue):
    hq_client.post(f"/catalogue/{catalogue.pk}/active/", {"active": "0"})
    catalogue.refresh_from_db()
    assert not catalogue.is_active
    assert 'data-sku="TEA-LJ"' not in hq_client.get("/catalogue/").content.decode()
    assert 'data-sku="TEA-LJ"' in hq_client.get("/catalogue/?status=inactive").content.decode()
    back = hq_client.post(
        f"/catalogue/{catalogue.pk}/active/", {"active": "1", "next": "https://evil.example/"}
    )
    assert back["Location"] == "/catalogue/"
    catalogue.refresh_from_db()
    assert catalogue.is_active


def test_cashiers_read_but_do_not_change(cashier_client, catalogue):
    page = cashier_client.get("/catalogue/").content.decode()
    assert "明前龙井" in page and "/catalogue/new/" not in page and ">Deactivate<" not in page
    assert cashier_client.get("/catalogue/new/").status_code == 403
    assert (
        cashier_client.post(f"/catalogue/{catalogue.pk}/active/", {"active": "0"}).status_code
        == 403
    )
    body = {"name": "x", "category": "drinks", "price": "1"}
    assert cashier_client.post(f"/catalogue/{catalogue.pk}/edit/", body).status_code == 403
    catalogue.refresh_from_db()
    assert catalogue.is_active and catalogue.name == "明前龙井"


def test_another_merchants_product_is_not_found(hq_client, catalogue, other_api):
    from patron.tenancy.actor import Actor
    from patron.tenancy.models import Merchant

    other = Actor.system(Merchant.objects.get(slug="other"))
    apply_program(other, {"categories": ["drinks"]})
    theirs = put_product(other, "THEIRS", {"name": "别家", "category": "drinks", "price": 1})
    assert hq_client.get(f"/catalogue/{theirs.product.pk}/edit/").status_code == 404


def test_the_page_is_in_chinese(hq, catalogue):
    page = logged_in(hq, "zh-hans").get("/catalogue/").content.decode()
    assert "商品" in page


def test_promotions_show_category_names(hq_client, system, catalogue):
    apply_program(
        system,
        {
            "tiers": [
                {"code": "normal", "name": "普通会员", "rank": 0},
                {"code": "gold", "name": "金卡", "rank": 1, "discount": {"rooms": 80}},
            ],
            "promotions": [
                {
                    "code": "d3",
                    "name": "饮品优惠",
                    "kind": "automatic",
                    "condition": {"categories": ["drinks"]},
                    "benefit": {"type": "percent", "value": 10, "categories": ["drinks"]},
                }
            ],
        },
    )
    page = hq_client.get("/promotions/")
    text = page.content.decode()
    assert "客房 80%" in text and "酒水" in text
    assert "rooms 80%" not in text and "categories drinks" not in text
