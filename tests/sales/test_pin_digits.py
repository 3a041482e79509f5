"""Issue 13 (hardening), defect 8: a PIN is six ASCII digits, not one digit repeated (API.md §7).

A PIN of "２４６８１０", "²²²²²²" or "١٢٣٤٥٦" was stored as typed, so that the same PIN typed in
ASCII later failed and counted toward the lockout. Full-width digits now are the ASCII PIN
(NFKC); any other digit is 422 `validation_error`, when setting (nothing changes) and when paying
(no attempt counted: a malformed PIN is no guess; a well-formed wrong one still counts).
"""

from __future__ import annotations

import pytest
from django.test import Client

from patron.ledger import services as ledger
from patron.sales.models import MemberPin, Sale
from patron.sales.services import set_pin
from tests.sales.conftest import BASKET
from tests.sales.test_cashier_views import basket, logged_in, page

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def post(client: Client, path: str, body: dict):
    return client.post(path, body, content_type="application/json")


def put_pin(client: Client, member, pin):
    return client.put(
        f"/api/v1/members/{member.pk}/pin", {"pin": pin}, content_type="application/json"
    )


class TestSettingThePin:
    def test_full_width_digits_are_the_same_pin_as_ascii(self, api, system, gold):
        assert put_pin(api, gold, "２４６８１０").status_code == 204
        ledger.top_up(system, gold, 20000, key="more")
        body = {"member": gold.pk, "store": "S1", "lines": BASKET, "stored_value": 15000}
        response = post(api, "/api/v1/sales", body | {"pin": "246810"})
        assert response.status_code == 201, response.content

    @pytest.mark.parametrize(
        "pin",
        [
            "²²²²²²",  # superscripts: not digits of any keyboard (and one digit repeated)
            "²⁴⁶⁸¹⁰",
            "١٢٣٤٥٦",  # Arabic-Indic
            "፩፪፫፬፭፮",  # Ethiopic
            "12345",
            "1234567",
            "12 456",
            "-12345",
            "111111",  # one digit repeated (API.md §7)
            "１１１１１１",
        ],
    )
    def test_anything_but_six_ascii_digits_or_a_repeated_digit_is_422(self, api, gold, pin):
        response = put_pin(api, gold, pin)
        assert response.status_code == 422, response.content
        assert response.json()["code"] == "validation_error"
        assert not MemberPin.objects.filter(member=gold).exists()

    def test_a_refused_pin_changes_nothing_not_even_the_attempt_count(self, api, system, gold):
        set_pin(system, gold, "135790")
        MemberPin.objects.filter(member=gold).update(failed_attempts=3)
        before = MemberPin.objects.get(member=gold)
        assert put_pin(api, gold, "١٢٣٤٥٦").status_code == 422
        after = MemberPin.objects.get(member=gold)
        assert (after.pin_hash, after.failed_attempts) == (before.pin_hash, 3)


class TestVerifyingThePin:
    @pytest.fixture
    def body(self, system, gold) -> dict:
        ledger.top_up(system, gold, 20000, key="more")
        set_pin(system, gold, "135790")
        return {"member": gold.pk, "store": "S1", "lines": BASKET, "stored_value": 15000}

    @pytest.mark.parametrize("pin", ["١٣٥٧٩٠", "¹³⁵⁷⁹⁰", "13579", "13579O", "1357900"])
    def test_a_malformed_pin_is_422_and_no_attempt(self, api, gold, body, pin):
        response = post(api, "/api/v1/sales", body | {"pin": pin})
        assert response.status_code == 422, response.content
        assert response.json()["code"] == "validation_error"
        assert MemberPin.objects.get(member=gold).failed_attempts == 0
        assert Sale.objects.count() == 0

    def test_the_full_width_pin_is_the_pin(self, api, gold, body):
        response = post(api, "/api/v1/sales", body | {"pin": "１３５７９０"})
        assert response.status_code == 201, response.content

    def test_a_well_formed_wrong_pin_still_counts(self, api, gold, body):
        response = post(api, "/api/v1/sales", body | {"pin": "２４６８１０"})
        assert response.status_code == 422 and response.json()["code"] == "pin_invalid"
        assert MemberPin.objects.get(member=gold).failed_attempts == 1

    def test_malformed_pins_never_lock_the_member_out(self, api, gold, body):
        for _ in range(10):
            assert post(api, "/api/v1/sales", body | {"pin": "١٣٥٧٩٠"}).status_code == 422
        right = post(api, "/api/v1/sales", body | {"pin": "135790"})
        assert right.status_code == 201, right.content

    def test_at_the_till_a_malformed_pin_is_shown_beside_the_pin_input(self, cashier, gold, body):
        till = logged_in(cashier)
        html = page(till.post("/cashier/commit/", basket(gold, stored_value="150", pin="١٣٥٧٩٠")))
        assert "The PIN is 6 digits." in html
        assert 'data-till-focus="pin-input"' in html
        assert MemberPin.objects.get(member=gold).failed_attempts == 0
        assert Sale.objects.count() == 0
