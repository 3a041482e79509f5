"""Sale lines that name only a SKU or a barcode (API.md §6), and audited price overrides."""

from __future__ import annotations

import json

import pytest

from patron.catalogue.services import put_product
from patron.sales.models import Sale, SaleLine
from patron.sales.services import LineInput, SaleRequest, commit_sale, price
from patron.tenancy.models import AuditEntry

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def test_a_sale_by_barcode_only_takes_name_category_and_price_from_the_catalogue(api, tea, fish):
    body = {
        "store": "S1",
        "lines": [{"sku": "TEA-LJ", "quantity": 2}, {"barcode": "6901234567809", "quantity": 1}],
    }
    answer = post(api, "/api/v1/sales", body)
    assert answer.status_code == 201, answer.content
    assert answer.json()["total"] == 2 * 3800 + 6800
    lines = list(SaleLine.objects.order_by("position").values_list("sku", "name", "category"))
    assert lines == [("TEA-LJ", "明前龙井", "drinks"), ("FISH", "西湖醋鱼", "dishes")]
    assert not AuditEntry.objects.filter(object_type="saleline").exists()


def test_a_barcode_typed_in_the_sku_field_finds_the_product(system, tea):
    request = SaleRequest(lines=[LineInput("6901234567892", quantity=1)], store="S1")
    assert price(system, request).quote.total == 3800


def test_a_given_price_overrides_and_is_audited_with_who_gave_it(hq, tea):
    request = SaleRequest(lines=[LineInput("TEA-LJ", quantity=1, unit_price=3500)], store="S1")
    sale = commit_sale(hq, request)
    assert sale.total == 3500
    (entry,) = AuditEntry.objects.filter(object_type="saleline")
    assert entry.user == hq.user
    assert entry.changes == {"unit_price": [3800, 3500]}
    assert "TEA-LJ" in entry.object_repr and str(sale.pk) in entry.object_repr


def test_a_price_override_by_an_api_key_names_the_key(api, tea):
    body = {"store": "S1", "lines": [{"sku": "TEA-LJ", "quantity": 1, "unit_price": 3000}]}
    assert post(api, "/api/v1/sales", body).status_code == 201
    (entry,) = AuditEntry.objects.filter(object_type="saleline")
    assert entry.api_key is not None and entry.channel == "api"


def test_a_quote_audits_nothing(api, tea):
    body = {"store": "S1", "lines": [{"sku": "TEA-LJ", "quantity": 1, "unit_price": 3000}]}
    assert post(api, "/api/v1/sales/quote", body).json()["total"] == 3000
    assert not AuditEntry.objects.filter(object_type="saleline").exists()


def test_an_unknown_sku_without_a_price_is_refused_naming_the_line(api, tea):
    body = {
        "store": "S1",
        "lines": [{"sku": "TEA-LJ", "quantity": 1}, {"sku": "NOPE", "quantity": 1}],
    }
    answer = post(api, "/api/v1/sales", body)
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["code"] == "unknown_product"
    assert problem["errors"] == [
        {"field": "lines[1].sku", "message": problem["errors"][0]["message"]}
    ]
    assert "NOPE" in problem["detail"] and "2" in problem["detail"]
    assert not Sale.objects.exists()
    unknown_barcode = {"store": "S1", "lines": [{"barcode": "6901234567816", "quantity": 1}]}
    assert post(api, "/api/v1/sales/quote", unknown_barcode).json()["errors"][0]["field"] == (
        "lines[0].barcode"
    )


def test_an_unknown_sku_with_category_and_price_sells_as_before(api, tea):
    body = {
        "store": "S1",
        "lines": [{"sku": "NEW-1", "category": "drinks", "quantity": 1, "unit_price": 900}],
    }
    assert post(api, "/api/v1/sales", body).status_code == 201
    assert not AuditEntry.objects.filter(object_type="saleline").exists()


def test_an_inactive_product_is_not_sold_from_the_catalogue(system, api, tea):
    put_product(system, "TEA-LJ", {"active": False})
    body = {"store": "S1", "lines": [{"sku": "TEA-LJ", "quantity": 1}]}
    assert post(api, "/api/v1/sales/quote", body).json()["code"] == "unknown_product"


def test_a_product_priced_at_the_till_needs_a_price(system, api, categories):
    put_product(system, "MISC", {"name": "杂项", "category": "drinks", "price": 0})
    body = {"store": "S1", "lines": [{"sku": "MISC", "quantity": 1}]}
    answer = post(api, "/api/v1/sales/quote", body)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "lines[0].unit_price"
    assert len(answer.json()["errors"]) == 1
    body["lines"][0]["unit_price"] = 500
    assert post(api, "/api/v1/sales", body).json()["total"] == 500
    assert not AuditEntry.objects.filter(object_type="saleline").exists()  # no price to override


def test_an_absurd_override_is_refused(api, tea):
    body = {"store": "S1", "lines": [{"sku": "TEA-LJ", "quantity": 1, "unit_price": 10**10}]}
    answer = post(api, "/api/v1/sales", body)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "lines[0].unit_price"
    assert not Sale.objects.exists()


@pytest.mark.parametrize("line", [{"sku": "TEA-LJ"}, {"barcode": "6901234567892"}])
def test_a_deactivated_product_is_refused_and_says_so(api, system, tea, line):
    put_product(system, "TEA-LJ", {"active": False})
    answer = post(api, "/api/v1/sales", {"store": "S1", "lines": [{**line, "quantity": 1}]})
    assert answer.status_code == 422 and answer.json()["code"] == "unknown_product"
    assert "停用" in answer.json()["detail"]  # zh-Hans: the default language
    assert not Sale.objects.exists()
