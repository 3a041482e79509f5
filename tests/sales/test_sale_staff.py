"""`staff` in the sale body (API.md §3): a POS names who sold; the sale, its receipt and the
cashier's shift then belong to that person. Unknown, inactive or another store's staff: 422,
nothing written."""

from __future__ import annotations

import pytest
from django.test import Client

from patron.core.errors import PermissionDenied
from patron.sales.models import Sale
from patron.sales.services import LineInput, SaleRequest, commit_sale
from patron.tenancy.models import Role
from patron.tenancy.services import update_staff
from tests.conftest import staff_actor

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

LINES = [{"sku": "MUG", "category": "retail", "quantity": 1, "unit_price": 4934}]


def post(client: Client, body: dict):
    return client.post("/api/v1/sales", body, content_type="application/json")


def test_a_named_cashier_is_who_sold(api, program, cashier):
    answer = post(api, {"store": "S1", "lines": LINES, "staff": "cashier1"})
    assert answer.status_code == 201, answer.content
    assert answer.json()["staff"] == "cashier1"
    sale = Sale.objects.get(pk=answer.json()["id"])
    assert sale.user.get_username() == "cashier1" and sale.api_key is not None
    assert api.get(f"/api/v1/sales/{sale.pk}").json()["staff"] == "cashier1"


def test_without_staff_an_api_sale_has_no_person(api, program):
    answer = post(api, {"store": "S1", "lines": LINES})
    assert answer.status_code == 201 and answer.json()["staff"] is None


@pytest.mark.parametrize("name", ["nobody", "retired"])
def test_unknown_or_inactive_staff_is_refused_and_nothing_written(api, program, system, name):
    retired = staff_actor(system, "retired", Role.HQ_ADMIN)
    update_staff(system, retired.staff, is_active=False)
    answer = post(api, {"store": "S1", "lines": LINES, "staff": name})
    assert answer.status_code == 422 and answer.json()["code"] == "unknown_staff"
    assert answer.json()["errors"][0]["field"] == "staff"
    assert not Sale.objects.exists()


def test_a_cashier_of_another_store_is_refused(api, program, cashier):
    answer = post(api, {"store": "S2", "lines": LINES, "staff": "cashier1"})
    assert answer.status_code == 422 and answer.json()["code"] == "staff_not_at_store"
    assert not Sale.objects.exists()


def test_a_signed_in_cashier_may_name_only_themselves(program, system, stores, cashier):
    other = staff_actor(system, "cashier2", Role.CASHIER, stores["S1"])
    ask = SaleRequest(lines=[LineInput(**LINES[0])], store="S1", staff="cashier2")
    assert other.staff.user.get_username() == "cashier2"
    with pytest.raises(PermissionDenied):
        commit_sale(cashier, ask, key="k1")
    assert not Sale.objects.exists()


def test_a_price_typed_for_a_named_cashier_is_audited_with_their_name(
    api, program, system, cashier
):
    from patron.catalogue.services import put_product
    from patron.tenancy.models import AuditEntry

    put_product(system, "MUG", {"name": "马克杯", "category": "retail", "price": 5000})
    line = {"sku": "MUG", "quantity": 1, "unit_price": 4500}
    answer = post(api, {"store": "S1", "lines": [line], "staff": "cashier1"})
    assert answer.status_code == 201, answer.content
    entry = AuditEntry.objects.get(object_type="saleline")
    assert entry.changes == {"unit_price": [5000, 4500]}
    assert entry.user.get_username() == "cashier1" and entry.api_key is not None
