"""PUT / GET /api/v1/products (API.md §6): new and updated, filters, tenancy, bad input."""

from __future__ import annotations

import json

import pytest

from patron.catalogue.models import Product
from patron.tenancy.models import AuditEntry

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

TEA = {"name": "明前龙井", "category": "drinks", "price": 3800, "barcode": "6901234567892"}


def put(client, sku, body, **headers):
    return client.put(
        f"/api/v1/products/{sku}", json.dumps(body), content_type="application/json", **headers
    )


def test_put_creates_then_updates_and_the_same_body_changes_nothing(api, categories):
    created = put(api, "TEA-LJ", TEA)
    assert created.status_code == 201, created.content
    assert created.json() | {"created_at": 0, "updated_at": 0} == {
        "sku": "TEA-LJ",
        "barcode": "6901234567892",
        "name": "明前龙井",
        "category": "drinks",
        "category_name": "drinks",
        "price": 3800,
        "brand": "",
        "size": "",
        "colour": "",
        "active": True,
        "created_at": 0,
        "updated_at": 0,
    }
    updated = put(api, "TEA-LJ", TEA | {"price": 4000, "brand": "西湖"})
    assert updated.status_code == 200
    assert (updated.json()["price"], updated.json()["brand"]) == (4000, "西湖")
    entries = AuditEntry.objects.filter(object_type="product").count()
    again = put(api, "TEA-LJ", TEA | {"price": 4000})  # brand left out: kept
    assert again.status_code == 200 and again.json()["brand"] == "西湖"
    assert AuditEntry.objects.filter(object_type="product").count() == entries
    assert Product.objects.count() == 1


def test_category_names_show_and_unknown_categories_are_named(api, categories):
    answer = put(api, "ROOM-STD", {"name": "标准间", "category": "rooms", "price": 32000})
    assert answer.json()["category_name"] == "客房"
    refused = put(api, "X", {"name": "x", "category": "spa", "price": 100})
    assert refused.status_code == 422
    assert "spa" in refused.json()["detail"]
    assert refused.json()["errors"][0]["field"] == "category"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price": -5}, "price"),
        ({"price": 10**12}, "price"),
        ({"barcode": "6901234567890"}, "barcode"),  # wrong check digit
        ({"name": "   "}, "name"),
    ],
)
def test_bad_products_are_422_and_write_nothing(api, categories, change, field):
    answer = put(api, "BAD", TEA | change)
    assert answer.status_code == 422, answer.content
    assert field in json.dumps(answer.json()["errors"])
    assert not Product.objects.exists()


def test_a_barcode_belongs_to_one_product(api, categories):
    put(api, "TEA-LJ", TEA)
    answer = put(api, "TEA-2", TEA)
    assert answer.status_code == 409
    assert answer.json()["code"] == "duplicate_barcode"
    assert "TEA-LJ" in answer.json()["detail"]


def test_get_filters_by_text_category_and_barcode(api, tea, fish):
    def skus(query: str) -> list[str]:
        answer = api.get(f"/api/v1/products{query}")
        assert answer.status_code == 200
        return [item["sku"] for item in answer.json()["items"]]

    assert sorted(skus("")) == ["FISH", "TEA-LJ"]
    assert skus("?q=龙井") == ["TEA-LJ"]
    assert skus("?q=fish") == ["FISH"]
    assert skus("?q=MQLJ") == ["TEA-LJ"]  # the name's pinyin initials
    assert skus("?q=69012345678") == ["FISH", "TEA-LJ"] or skus("?q=69012345678") == [
        "TEA-LJ",
        "FISH",
    ]
    assert skus("?category=dishes") == ["FISH"]
    assert skus("?barcode=6901234567809") == ["FISH"]
    assert skus("?barcode=690123456780") == []  # the whole barcode, not a part
    page = api.get("/api/v1/products?page_size=1&page=2").json()
    assert (page["count"], page["page"], len(page["items"])) == (2, 2, 1)
    assert api.get("/api/v1/products/FISH").json()["name"] == "西湖醋鱼"


def test_another_merchants_products_are_not_found(tea, other_api):
    assert other_api.get("/api/v1/products/TEA-LJ").status_code == 404
    assert other_api.get("/api/v1/products?barcode=6901234567892").json()["count"] == 0


def test_the_document_states_the_rules(client):
    document = client.get("/api/v1/openapi.json").json()
    product = document["components"]["schemas"]["ProductIn"]
    assert product["properties"]["price"]["minimum"] == 0
    assert set(product["required"]) == {"name", "category", "price"}
    line = document["components"]["schemas"]["LineIn"]
    assert line["anyOf"] == [{"required": ["sku"]}, {"required": ["barcode"]}]
    assert "/api/v1/products/{sku}" in document["paths"]
