"""Issue 13 (hardening), defect 9: the OpenAPI document states the server's real rules.

`lines: []`, `mobile: ""` and integers beyond 64 bits were valid by the document and refused by
the server, so generated clients could not learn them. These tests read the rules from the
served document and hold the server to them; tests/api/test_openapi_schemathesis.py fuzzes the
whole API against the document with valid and invalid data.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from patron.core.apitypes import MOMENT_PATTERN
from patron.core.text import INT64_MAX
from patron.members.importing import import_members
from patron.members.services import register_member
from patron.program.services import apply_program, program_body_schema
from patron.promotions.models import Coupon
from patron.sales.schemas import not_one_digit_repeated
from patron.sales.services import MAX_LINES, MAX_PRICE, MAX_QUANTITY, PIN_LENGTH, pin_digits

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture
def document(client: Client) -> dict:
    return client.get("/api/v1/openapi.json").json()


def component(document: dict, name: str) -> dict:
    return document["components"]["schemas"][name]


def post(client: Client, path: str, body: dict, **headers):
    return client.post(path, json.dumps(body), content_type="application/json", headers=headers)


def test_a_sale_states_its_limits(document):
    sale, line = component(document, "SaleIn"), component(document, "LineIn")
    assert sale["properties"]["lines"]["minItems"] == 1
    assert sale["properties"]["lines"]["maxItems"] == MAX_LINES
    assert set(sale["required"]) == {"lines", "store"}
    assert line["properties"]["quantity"] | {"title": ""} == {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_QUANTITY,
        "title": "",
    }
    assert line["properties"]["unit_price"]["maximum"] == MAX_PRICE
    member = sale["properties"]["member"]["anyOf"][0]
    assert (member["minimum"], member["maximum"]) == (1, INT64_MAX)


def test_ids_in_paths_are_64_bit(document):
    parameters = document["paths"]["/api/v1/members/{member_id}"]["get"]["parameters"]
    (member_id,) = [p for p in parameters if p["name"] == "member_id"]
    assert (member_id["schema"]["minimum"], member_id["schema"]["maximum"]) == (1, INT64_MAX)


def test_a_mobile_is_an_assigned_mainland_number(document):
    mobile = component(document, "MemberIn")["properties"]["mobile"]
    pattern = re.compile(mobile["pattern"])
    assert pattern.search("13800138000") and pattern.search("+8613800138000")
    for refused in ("", "12345678901", "23800138000", "1380013800"):
        assert not pattern.search(refused), refused


def test_every_request_string_refuses_nul(document):
    """The parser refuses NUL in any string of a request; the document says so everywhere."""
    sku = component(document, "LineIn")["properties"]["category"]
    assert sku["pattern"] == r"^[^\x00]*$"
    code = document["paths"]["/api/v1/identify"]["get"]["parameters"][0]["schema"]
    assert not re.search(code["pattern"], "a\x00b")
    custom = component(document, "MemberIn")["properties"]["custom"]["anyOf"][0]
    assert custom["propertyNames"] == {"pattern": r"^[^\x00]*$"}
    assert custom["additionalProperties"] == {"$ref": "#/components/schemas/JsonWithoutNul"}


def test_put_program_takes_the_programs_own_schema(document):
    body = document["paths"]["/api/v1/program"]["put"]["requestBody"]["content"]
    ref = body["application/json"]["schema"]["$ref"]
    shown = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert shown["additionalProperties"] is False
    assert set(shown["properties"]) == set(program_body_schema()["properties"])
    assert "#/$defs/" not in json.dumps(shown)  # self-contained: no refs into another document


@given(st.text(alphabet="0123456789０１２３４５６７８９²١a", min_size=4, max_size=8))
def test_the_pin_pattern_is_exactly_the_servers_rule(text):
    """PUT /members/{id}/pin: six digits (full-width count), not one digit repeated."""
    digits = pin_digits(text)
    accepted = digits is not None and len(set(digits)) > 1
    assert bool(re.fullmatch(not_one_digit_repeated(PIN_LENGTH), text)) == accepted


@pytest.mark.parametrize("pin", ["111111", "１１１１１１", "1１1１1１"])
def test_one_digit_repeated_in_any_width_is_refused(pin):
    assert not re.fullmatch(not_one_digit_repeated(PIN_LENGTH), pin)


# --- the server, where the document found it wrong ---------------------------------------------


@pytest.fixture
def member(system, stores):
    apply_program(system, {"categories": ["rooms"], "coupon_templates": [TEMPLATE]})
    return register_member(system, {"mobile": "13800138000", "store": "S1"})


TEMPLATE = {
    "code": "cash20",
    "name": "满100减20",
    "benefit": {"type": "fixed", "value": 2000},
    "valid_days": 30,
}
LONGEST_KEY = "k" * 255  # the document's maxLength for Idempotency-Key


def test_the_longest_idempotency_key_works_for_a_top_up(api, member):
    """The key is prefixed for the ledger ("topup:"); 255 characters then overflowed its 255
    and the top-up was a 422 (the document allows 255)."""
    body = {"member": member.pk, "amount": 10000, "store": "S1"}
    first = post(api, "/api/v1/topups", body, **{"Idempotency-Key": LONGEST_KEY})
    assert first.status_code == 201, first.content
    again = post(api, "/api/v1/topups", body, **{"Idempotency-Key": LONGEST_KEY})
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"


def test_the_longest_idempotency_key_works_for_a_coupon(api, member):
    """ "api:" + 255 characters did not fit the coupon's issue key (PostgreSQL: a 500)."""
    url = f"/api/v1/members/{member.pk}/coupons"
    first = post(api, url, {"template": "cash20"}, **{"Idempotency-Key": LONGEST_KEY})
    assert first.status_code == 201, first.content
    assert post(api, url, {"template": "cash20"}, **{"Idempotency-Key": LONGEST_KEY}).json() == (
        first.json()
    )
    assert Coupon.objects.count() == 1


def test_integers_are_json_integers(api, member):
    """JSON Schema's integer includes 2.0; a string or a boolean is none."""
    line = {"sku": "ROOM", "category": "rooms", "quantity": 2.0, "unit_price": 10000}
    body = {"member": member.pk, "store": "S1", "lines": [line]}
    assert post(api, "/api/v1/sales/quote", body).status_code == 200
    for quantity in ("2", True, 2.5):
        lines = [line | {"quantity": quantity}]
        assert post(api, "/api/v1/sales/quote", body | {"lines": lines}).status_code == 422


@pytest.mark.parametrize(
    "as_of",
    [
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "9999-12-31T23:59:59Z",
        "1999-12-31T23:59:59Z",
        "2101-01-01T00:00:00Z",
        "0.5",
        "1700000000",
    ],
)
def test_balances_as_of_outside_2000_to_2100_is_422_not_500(api, member, as_of):
    response = api.get(f"/api/v1/members/{member.pk}/balances", {"as_of": as_of})
    assert response.status_code == 422, response.content
    assert not re.search(MOMENT_PATTERN, as_of)


def test_times_are_written_as_rfc3339_even_in_local_mean_time(api, system, stores, tmp_path):
    """Before 1901 Shanghai's offset was +08:05:43, which RFC 3339 cannot write: UTC then."""
    file = tmp_path / "old.csv"
    file.write_text("手机号,入会时间\n13800138000,1900-06-01 12:00\n", encoding="utf-8")
    import_members(system, file, file_name="old.csv", dry_run=False, default_store="S1")
    joined = api.get("/api/v1/members").json()["items"][0]["joined_at"]
    # 12:00 at +08:05:43 is 03:54:17 UTC
    assert joined == "1900-06-01T03:54:17+00:00"
    assert dt.datetime.fromisoformat(joined).utcoffset() == dt.timedelta(0)
