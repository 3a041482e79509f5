"""Issue 13 (hardening), defect 5: digits that are digits only to Python.

`str.isdigit()` passes "²" (superscript two) and "፩" (Ethiopic one), which `int()` refuses: the
member named by them, at the API or the till, was a 500. Digits are ASCII now, full-width ones
(an input method's) read as ASCII, any other digit refused with a 4xx or beside its input.
"""

from __future__ import annotations

import pytest
from django.test import Client

from patron.sales.models import Sale
from tests.sales.conftest import BASKET
from tests.sales.test_cashier_views import basket, figure, logged_in, page

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

EXOTIC = ["²", "፩", "١٢٣", "²²²", "፩፪፫፬፭፮፯፰፱፲፩"]


def post(client: Client, path: str, body: dict):
    return client.post(path, body, content_type="application/json")


@pytest.mark.parametrize("code", EXOTIC)
@pytest.mark.parametrize("path", ["/api/v1/sales", "/api/v1/sales/quote"])
def test_a_sale_naming_the_member_in_exotic_digits_is_a_4xx(api, program, path, code):
    response = post(api, path, {"member": code, "store": "S1", "lines": BASKET})
    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"
    assert Sale.objects.count() == 0


@pytest.mark.parametrize("code", EXOTIC)
def test_identify_refuses_exotic_digits(api, gold, code):
    response = api.get("/api/v1/identify", {"code": code})
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_identify_reads_full_width_digits_as_ascii(api, gold):
    """A mobile typed through a Chinese input method is the same mobile."""
    response = api.get("/api/v1/identify", {"code": "１３８００１３８０００"})
    assert response.status_code == 200 and response.json()["id"] == gold.pk


def test_a_superscript_is_not_read_as_the_member_id(api, gold):
    """NFKC reads "²" as "2"; nobody scanning a member meant that (the gold member is id 1 or
    2 in a fresh database, so each of them would be found)."""
    for code in ("¹", "²", "₁", "①"):
        assert api.get("/api/v1/identify", {"code": code}).status_code == 404


def test_an_id_beyond_64_bits_names_nobody(api, gold):
    response = post(api, "/api/v1/sales/quote", {"member": 2**63, "store": "S1", "lines": BASKET})
    assert response.status_code in (404, 422), response.content


class TestTheTill:
    """The cashier screen: what the cashier types, refused beside its input; never a 500."""

    @pytest.fixture
    def till(self, cashier) -> Client:
        return logged_in(cashier)

    @pytest.mark.parametrize("code", EXOTIC)
    def test_the_member_typed_in_exotic_digits_is_not_found(self, till, gold, code):
        html = page(till.post("/cashier/quote/", basket(op="identify", member_code=code)))
        assert "No member with this mobile, card number or member code." in html
        assert 'name="member" value=' not in html

    def test_a_forged_member_field_is_a_walk_in(self, till, gold):
        html = page(till.post("/cashier/quote/", basket() | {"member": "፩"}))
        assert 'name="member" value=' not in html
        assert figure(html, "total") == 39000  # priced as a walk-in

    @pytest.mark.parametrize("quantity", ["፩", "²", "١"])
    def test_a_quantity_in_exotic_digits_is_an_error_on_its_line(self, till, gold, quantity):
        body = basket(gold)
        body["line_qty"] = [quantity, "2", "1"]
        html = page(till.post("/cashier/quote/", body))
        assert "The quantity must be a whole number from 1 to 100000." in html

    def test_a_full_width_quantity_counts(self, till, gold):
        body = basket(gold)
        body["line_qty"] = ["１", "２", "１"]
        html = page(till.post("/cashier/quote/", body))
        assert "The quantity must be" not in html
        assert figure(html, "total") == 31600  # the same as typed in ASCII

    @pytest.mark.parametrize("points", ["፩", "²", "١٠٠"])
    def test_points_in_exotic_digits_are_an_error_beside_the_input(self, till, gold, points):
        html = page(till.post("/cashier/quote/", basket(gold, points=points)))
        assert "Points are a whole number, 0 or more." in html

    def test_full_width_points_count(self, till, gold):
        html = page(till.post("/cashier/quote/", basket(gold, points="１０００")))
        assert "Points are a whole number" not in html
        assert figure(html, "points-value") == 1000  # 100 points are a yuan
