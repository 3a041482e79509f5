"""Contract test: schemathesis fuzzes every operation of /api/v1/openapi.json, authenticated,
against the real WSGI application and a real database, with data that fits the document
(positive) and data that does not (negative).

No request may end in a 5xx; a request the document calls valid must not be refused as invalid
("valid request rejected": 400 or 422 `validation_error`), and one it calls invalid must be
refused; the answers must match the document (status codes, content types, bodies, headers).
So the document states the server's real rules (lengths, patterns, bounds, list sizes) and
generated clients learn them (issue 13, defect 9).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure
from schemathesis.specs.openapi import checks

from patron.ledger import services as ledger
from patron.ledger.models import TOPUP_CEILING
from patron.members.models import CustomField, Member
from patron.members.services import define_custom_field, register_member
from patron.program.services import apply_program
from patron.sales import services as sales
from patron.wsgi import application

pytestmark = [pytest.mark.postgres]

MAX_EXAMPLES = 40

# Loaded from the running application (no database needed to serve the document). The lazy
# `schemathesis.pytest.from_fixture` loader does not work with pytest 9 (`_nodeid`).
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=MAX_EXAMPLES,
    deterministic=True,
    database="none",
)

PROGRAM = {
    "categories": ["rooms", "dishes"],
    "tiers": [
        {"code": "normal", "name": "普通会员", "rank": 0},
        {"code": "gold", "name": "金卡会员", "rank": 1, "discount": {"rooms": 80}},
    ],
    "coupon_templates": [
        {
            "code": "cash20",
            "name": "满100减20",
            "benefit": {"type": "fixed", "value": 2000},
            "valid_days": 30,
        }
    ],
    # The largest top-up a program may allow, which the document states (a merchant may set
    # less, and a valid top-up above its own limit is then refused).
    "stored_value": {"max_topup": TOPUP_CEILING},
}


@pytest.fixture
def keep_test_connection():
    """Calling the WSGI app directly fires request_started/finished, whose handler closes the
    connection holding the test transaction; Django's own test client unhooks it the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(system, stores, api_key, keep_test_connection) -> dict[str, Any]:
    """Something to find and to change: custom fields of every kind, members with points and
    stored value, tiers, a coupon template and a sale to refund."""
    apply_program(system, PROGRAM)
    define_custom_field(system, "size", "尺码", CustomField.Kind.CHOICE, ["S", "M", "L"])
    define_custom_field(system, "shoe", "鞋码", CustomField.Kind.NUMBER)
    define_custom_field(system, "colour", "颜色", CustomField.Kind.TEXT)
    define_custom_field(system, "anniversary", "纪念日", CustomField.Kind.DATE)
    members: list[Member] = [
        register_member(system, {"mobile": mobile, "store": "S1"})
        for mobile in ("13800138000", "13900139000", "13700137000")
    ]
    for member in members:
        ledger.top_up(system, member, 1_000_000, key=f"fund-{member.pk}")
        ledger.adjust_points(system, member, 100_000, reason="fuzz", key=f"points-{member.pk}")
    line = sales.LineInput(sku="ROOM", category="rooms", quantity=100, unit_price=10000)
    sale = sales.commit_sale(
        system, sales.SaleRequest(lines=[line], store="S1", member=members[0].pk), key="fuzz"
    )
    return {"key": api_key, "member": members[0].pk, "sale": sale.pk, "sku": "ROOM"}


# --- positive cases name what exists ---------------------------------------------------------

# Body fields naming the merchant's own data: what the document cannot list, the fixture has.
REFERENCES = {
    "store": "S1",
    "category": "rooms",
    "template": "cash20",
    "tier": "gold",
}


# A resident ID whose check digit, birthplace and birth date hold (stdnum.cn.ric).
VALID_ID_NUMBER = "11010519491231002X"


def ground_rules_beyond_json_schema(body: dict[str, Any]) -> None:
    """Rules the document states in words, since JSON Schema cannot: an ID number's check
    digit, birthplace and birth date, a birthday not after today, a barcode's check digit."""
    if body.get("id_number"):
        body["id_number"] = VALID_ID_NUMBER
    if body.get("barcode") and "lines" not in body:
        body["barcode"] = "6901234567892"  # a product's: the check digit must hold
    birthday = body.get("birthday")
    if isinstance(birthday, str) and birthday > dt.date.today().isoformat():
        body["birthday"] = "1990-01-02"


def ground(case, world: dict[str, Any]) -> None:
    """Make a positive case name the fixture's members, sale, stores, categories, tiers and
    templates: references to the merchant's data are valid by the document whatever they say,
    and a request naming nothing that exists is rightly refused. Everything else stays as
    generated."""
    for name in ("member_id", "sale_id"):
        if name in case.path_parameters:
            case.path_parameters[name] = world[name.removesuffix("_id")]
    if isinstance(case.query, dict):
        case.query.pop("cursor", None)  # names a row of a page the server handed out
    body = case.body
    if not isinstance(body, dict):
        return
    for name, value in REFERENCES.items():
        if isinstance(body.get(name), str):
            body[name] = value
    body.pop("custom", None)  # keys of the merchant's own custom fields
    body.pop("referrer_code", None)  # another member's referral code
    body.pop("agreement_unit", None)  # the code of one of the merchant's agreement units
    body.pop("qualifying_sales", None)  # ids of the merchant's own anonymous sales
    body.pop("card_product", None)  # the code of one of the merchant's card products
    if isinstance(body.get("discount"), dict) and body["discount"]:
        # An agreement unit's percents by the merchant's categories.
        body["discount"] = {"rooms": next(iter(body["discount"].values()))}
    ground_rules_beyond_json_schema(body)
    for line in body.get("lines") or []:
        if isinstance(line, dict):
            line.update({k: v for k, v in REFERENCES.items() if k in line})
            if case.path_parameters.get("sale_id"):
                line["sku"] = world["sku"]


# 4xx codes that refuse a valid request because of what is stored or of the clock, not because
# of its shape: a member short of points, a PIN, a sale already refunded, a sale too old.
STATE_CODES = {
    "insufficient_points",
    "insufficient_balance",
    "pin_required",
    "pin_invalid",
    "pin_locked",
    "member_frozen",
    "refund_exceeds_sale",
    "occurred_at_out_of_window",
    "coupon_not_applicable",
    "qr_expired",
    "qr_invalid",
    "unknown_product",  # a line's SKU or barcode is not in the catalogue (and gives no price)
    "duplicate_barcode",
    "unknown_staff",  # the sale's `staff` names no active staff of the merchant
    "staff_not_at_store",
    "physical_id_taken",  # a physical card id already bound to another card (a stored fact)
    # Tenders add up to what the server prices the basket at (its program), and the cash
    # handed over must cover the cash part: a rule across fields JSON Schema cannot state.
    "tenders_mismatch",
    # An alliance's partner is a merchant that exists and is not the caller (a slug the
    # document can only shape), and points convert to a whole number at the alliance's rate.
    "unknown_partner",
    "alliance_with_self",
    "points_not_whole",
    "month_not_ended",  # a settlement month is closed once it is over (docs/network.md)
}


def refused_for_state(response) -> bool:
    try:
        return response.json().get("code") in STATE_CODES
    except ValueError:
        return False


# Operations whose valid requests the document cannot tell from invalid ones. A program
# file's validity spans its fields and sections (an end after its start, codes and ranks
# unique, a rank-0 tier, `valid_days` or a window), beyond JSON Schema. The document holds the
# program's own schema (shape, keys, every field's limits); the services refuse the rest with
# each error's path, which tests/program covers. Every other check still runs on it.
# Segment filters likewise: which operators and values a condition takes depends on its field,
# and tier and store codes must exist (tests/insight/test_segments_filters.py covers them).
# Member events too: a rating belongs to a review only (and a review needs one), complaints and
# suggestions need details, a sale or assignee named must exist
# (tests/insight/test_feedback_api.py covers them).
CROSS_FIELD_RULES = {
    ("POST", "/api/v1/members/{member_id}/events"),
    ("PUT", "/api/v1/program"),
    ("POST", "/api/v1/segments/preview"),
    ("POST", "/api/v1/segments"),
    # The dashboard's range: `from` not after `to`, at most three years (docs/reports.md), and
    # a store code the merchant has; tests/insight/test_reports_api.py covers each refusal.
    ("GET", "/api/v1/insight/dashboard"),
    # A webhook's URL must be http(s) with a host that resolves to a public address (SSRF
    # guard); tests/events/test_webhooks_api.py covers each refusal.
    ("POST", "/api/v1/webhooks"),
    # A campaign's definition: actions, templates, schedule and audience depend on each other
    # and on the merchant's data (tests/campaigns/test_engine_api.py covers each refusal).
    ("POST", "/api/v1/campaigns"),
    ("PATCH", "/api/v1/campaigns/{campaign_id}"),
    # A member-only event ends after it starts, at a store and for tiers the merchant has
    # (tests/activities/test_events_api.py covers each refusal).
    ("POST", "/api/v1/events"),
    ("PUT", "/api/v1/events/{code}"),
    # The member list's `page` times `page_size` skips at most 10,000 members, and a `cursor`
    # is one the server made (tests/api/test_members_paging.py covers both refusals).
    ("GET", "/api/v1/members"),
    # A what-if replay takes a program file (as PUT /program), a range that is not backwards
    # or in the future and a store code the merchant has (tests/whatif covers each refusal).
    ("POST", "/api/v1/program/simulate"),
}


def valid_requests_are_not_refused(ctx, response, case):
    """schemathesis' positive_data_acceptance, except for refusals about state (STATE_CODES)
    and the program file's rules across fields (CROSS_FIELD_RULES)."""
    if (case.method, case.path) in CROSS_FIELD_RULES:
        return None
    try:
        return checks.positive_data_acceptance(ctx, response, case)
    except Failure:
        if response.status_code in (422, 423) and refused_for_state(response):
            return None
        raise


def ignored_parameters(case) -> bool:
    """A read carrying query parameters it does not declare: it ignores them (HTTP convention;
    integrators' cache-busting `?_=` relies on it), so a negative case made by adding one (and
    leaving out the Authorization header, which the test sends anyway) is a valid read."""
    declared = case.operation.query
    return case.method == "GET" and any(name not in declared for name in case.query or {})


def invalid_requests_are_refused(ctx, response, case):
    """schemathesis' negative_data_rejection, except for reads with ignored parameters."""
    if ignored_parameters(case):
        return None
    return checks.negative_data_rejection(ctx, response, case)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_openapi_document(case, world):
    if case.meta.generation.mode.is_positive:
        ground(case, world)
    headers = {"Authorization": f"Bearer {world['key']}"}
    response = case.call(headers=headers)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}\n"
        f"{case.as_curl_command()}\n{response.text[:1000]}"
    )
    case.validate_response(
        response,
        excluded_checks=[checks.positive_data_acceptance, checks.negative_data_rejection],
        additional_checks=[valid_requests_are_not_refused, invalid_requests_are_refused],
        headers=headers,
    )


def test_the_document_declares_problem_json_and_idempotency_keys(client):
    document = client.get("/api/v1/openapi.json").json()
    operations = [
        (path, method, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]
    assert ("/api/v1/members", "post") in {(path, method) for path, method, _ in operations}
    for path, method, operation in operations:
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert list(response["content"]) == ["application/problem+json"], (path, status)
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        if method in {"post", "put", "patch", "delete"}:
            assert "Idempotency-Key" in headers, (path, method)
            assert {"409", "422"} <= set(operation["responses"]), (path, method)
        else:
            assert "Idempotency-Key" not in headers, (path, method)
