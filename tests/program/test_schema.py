"""The program file's one schema (API.md §2, §5): every section cleaned as `plan` takes it,
every benefit type, every error with its path and reason, and the JSON Schema served to
editors by `patron program schema` and GET /api/v1/program/schema."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
from io import StringIO
from typing import Any

import jsonschema
import pytest
from django.core.management import call_command
from django.utils import translation

from patron.core.errors import ValidationFailed
from patron.engine.pricing import BENEFIT_TYPES
from patron.program.services import SECTIONS, program_json_schema, validate_program

SCHEMA_URL = "/api/v1/program/schema"
WHOLE_FEN = "A whole number from 0 to 1000000000000."
CODE = "Use 1 to 32 letters, digits, - or _."
CATEGORY = "A category of 1 to 40 characters without spaces or commas."
SKU = "A SKU of 1 to 64 characters, no spaces."
MOMENT = "An ISO 8601 date or time, e.g. 2027-03-01 or 2027-03-01T09:00:00+08:00."
MULTIPLIER = "A number greater than 0 and at most 100, with at most two decimals (e.g. 1.5)."
BENEFIT_TYPE = "One of: " + ", ".join(BENEFIT_TYPES)


@pytest.fixture(autouse=True)
def _english():
    """Reasons are compared in English (the catalogue translates them to zh-Hans)."""
    with translation.override("en"):
        yield


def errors_of(document: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        validate_program(document)
    found = {error.field: str(error.message) for error in caught.value.errors}
    assert len(found) == len(caught.value.errors), "one error per path in these tests"
    return found


def whole(low: int, high: int) -> str:
    return f"A whole number from {low} to {high}."


# --- stores and categories -------------------------------------------------------------------


def test_stores_cleaned():
    document = {
        "stores": [
            {"code": "S1", "name": "  西湖店 "},
            {"code": "S-2_b", "name": "滨江店", "address": "江南大道 88 号", "phone": "0571-1"},
        ]
    }
    assert validate_program(document) == {
        "stores": [
            {"code": "S1", "name": "西湖店"},  # trimmed; address and phone only when given
            {"code": "S-2_b", "name": "滨江店", "address": "江南大道 88 号", "phone": "0571-1"},
        ]
    }


def test_store_errors():
    found = errors_of(
        {
            "stores": [
                {"code": "S1", "name": "西湖店", "address": "x" * 201, "phone": 571},
                {"code": "S1", "name": "   ", "manager": "张三"},
                {"name": "无编码"},
                ["S3"],
            ]
        }
    )
    assert found == {
        "stores[0].address": "Text of at most 200 characters.",
        "stores[0].phone": "Text of at most 32 characters.",
        "stores[1].code": "Duplicate code S1.",
        "stores[1].name": "A name of 1 to 100 characters.",
        "stores[1].manager": "Unknown key.",
        "stores[2].code": "Required.",
        "stores[3]": "Must be a mapping.",
    }


def test_categories_keep_their_order_and_refuse_repeats():
    assert validate_program({"categories": ["rooms", "酒水", "a-b"]}) == {
        "categories": [("rooms", ""), ("酒水", ""), ("a-b", "")]
    }
    assert errors_of({"categories": ["rooms", "a,b", "rooms", "", None, "x" * 41]}) == {
        "categories[1]": CATEGORY,
        "categories[2]": "Duplicate category rooms.",
        "categories[3]": CATEGORY,
        "categories[4]": CATEGORY,
        "categories[5]": CATEGORY,
    }


def test_a_category_may_have_a_display_name():
    document = {"categories": ["rooms", {"code": "dishes", "name": " 餐饮 "}]}
    assert validate_program(document) == {"categories": [("rooms", ""), ("dishes", "餐饮")]}
    refused = [{"code": "rooms", "name": ""}, {"code": "a b", "name": "x"}, {"code": "c"}, "rooms"]
    assert errors_of({"categories": refused}) == {
        "categories[0].name": "A name of 1 to 100 characters.",
        "categories[1].code": CATEGORY,
        "categories[2].name": "Required.",
        "categories[3]": "Duplicate category rooms.",
    }


# --- points, topup_bonus, stored_value, checkout ---------------------------------------------


def test_points_cleaned_with_the_defaults_of_the_parts_given():
    document = {
        "points": {
            "earn": {"per_amount": 10000, "points": 1},
            "earn_exclude_categories": ["drinks"],
            "redeem_cash": {"points": 100, "value": 100},
            "expiry": {"policy": "rolling_days", "days": 365},
            "pending_days": 7,
        }
    }
    assert validate_program(document)["points"] == {
        "earn": {"per_amount": 10000, "points": 1},
        "earn_exclude_categories": ["drinks"],
        "redeem_cash": {"points": 100, "value": 100, "max_share_percent": 100},
        "expiry": {"policy": "rolling_days", "days": 365},
        "pending_days": 7,
    }
    # Keys left out stay out: the plan fills them with the policy's defaults.
    assert validate_program({"points": {"expiry": {"policy": "never"}}}) == {
        "points": {"expiry": {"policy": "never"}}
    }
    assert validate_program({"points": {}}) == {"points": {}}


def test_point_errors():
    found = errors_of(
        {
            "points": {
                "earn": {"per_amount": 0},
                "earn_exclude_categories": ["soft drinks"],
                "redeem_cash": {"points": 100, "value": 1.5, "max_share_percent": 101},
                "expiry": {"policy": "rolling_days"},
                "pending_days": 366,
                "bonus": 1,
            }
        }
    )
    assert found == {
        "points.earn.per_amount": whole(1, 10**9),
        "points.earn.points": "Required.",
        "points.earn_exclude_categories[0]": CATEGORY,
        "points.redeem_cash.value": whole(1, 10**9),
        "points.redeem_cash.max_share_percent": whole(0, 100),
        "points.expiry.days": "Required.",
        "points.pending_days": whole(0, 365),
        "points.bonus": "Unknown key.",
    }


@pytest.mark.parametrize(
    ("expiry", "path", "message"),
    [
        (
            {"policy": "weekly"},
            "points.expiry.policy",
            "One of: end_of_next_year, rolling_days, never",
        ),
        ({}, "points.expiry.policy", "One of: end_of_next_year, rolling_days, never"),
        ({"policy": "never", "days": 30}, "points.expiry.days", "Unknown key."),
        ({"policy": "rolling_days", "days": 0}, "points.expiry.days", whole(1, 36500)),
        ("never", "points.expiry", "Must be a mapping."),
    ],
)
def test_expiry_policies_are_told_apart_by_policy(expiry, path, message):
    assert errors_of({"points": {"expiry": expiry}}) == {path: message}


def test_topup_bonus_sorted_by_minimum():
    rows = [{"min": 50000, "bonus": 6000}, {"min": 10000, "bonus": 0}]
    assert validate_program({"topup_bonus": rows}) == {
        "topup_bonus": [{"min": 10000, "bonus": 0}, {"min": 50000, "bonus": 6000}]
    }
    found = errors_of(
        {
            "topup_bonus": [
                {"min": 10000, "bonus": 1000},
                {"min": 10000, "bonus": 2000},
                {"min": 0, "bonus": -1},
                {"bonus": 5},
            ]
        }
    )
    assert found == {
        "topup_bonus[1].min": "Two rows with the same minimum.",
        "topup_bonus[2].min": whole(1, 10**10),
        "topup_bonus[2].bonus": whole(0, 10**10),
        "topup_bonus[3].min": "Required.",
    }
    assert errors_of({"topup_bonus": {"min": 1}}) == {"topup_bonus": "Must be a list."}


def test_stored_value():
    assert validate_program({"stored_value": {"payment_split": "bonus_first"}}) == {
        "stored_value": {"payment_split": "bonus_first"}
    }
    found = errors_of({"stored_value": {"payment_split": "random", "max_topup": 0, "x": 1}})
    assert found == {
        "stored_value.payment_split": "One of: proportional, principal_first, bonus_first",
        "stored_value.max_topup": whole(1, 10**11),
        "stored_value.x": "Unknown key.",
    }


def test_checkout():
    section = {
        "pin_required_above": 10000,
        "pin_max_attempts": 3,
        "pin_lock_minutes": 60,
        "backdate_days": 0,
        "refund_returns_coupons": "never",
    }
    assert validate_program({"checkout": section}) == {"checkout": section}
    # null is how export writes "no PIN threshold"; it is the same as leaving the key out.
    assert validate_program({"checkout": {"pin_required_above": None}}) == {"checkout": {}}
    found = errors_of(
        {
            "checkout": {
                "pin_required_above": -1,
                "pin_max_attempts": 21,
                "pin_lock_minutes": 0,
                "backdate_days": True,
                "refund_returns_coupons": "always",
                "pin": "1234",
            }
        }
    )
    assert found == {
        "checkout.pin_required_above": whole(0, 10**11),
        "checkout.pin_max_attempts": whole(1, 20),
        "checkout.pin_lock_minutes": whole(1, 10080),
        "checkout.backdate_days": whole(0, 365),
        "checkout.refund_returns_coupons": "One of: never, full_refund",
        "checkout.pin": "Unknown key.",
    }
    assert errors_of({"checkout": []}) == {"checkout": "Must be a mapping."}


# --- tiers -----------------------------------------------------------------------------------


def test_tiers_cleaned_as_stored():
    document = {
        "tiers": [
            {"code": "normal", "name": "普通", "rank": 0},
            {
                "code": "gold",
                "name": " 金卡 ",
                "rank": 2,
                "discount": {"rooms": 80, "dishes": 90},
                "points_multiplier": 1.25,
                "upgrade_when": {"single_sale": 100000, "points_total": 0},
            },
        ]
    }
    assert validate_program(document)["tiers"] == [
        {
            "code": "normal",
            "name": "普通",
            "rank": 0,
            "discount": {},
            "points_multiplier_percent": 100,
            "upgrade_when": {},
            "keep_when": {},
            "grace_days": 30,
            "birthday_gift": {},
            "privileges": [],
        },
        {
            "code": "gold",
            "name": "金卡",
            "rank": 2,
            "discount": {"dishes": 90, "rooms": 80},  # sorted by category
            "points_multiplier_percent": 125,
            "upgrade_when": {"single_sale": 100000, "points_total": 0},
            "keep_when": {},
            "grace_days": 30,
            "birthday_gift": {},
            "privileges": [],
        },
    ]


def test_tier_errors_beside_the_checks_across_tiers():
    found = errors_of(
        {
            "tiers": [
                {"code": "a", "name": "A", "rank": 0, "discount": ["rooms"]},
                {"code": "b", "name": "B", "rank": 0, "upgrade_when": 100000},
                {"code": "c", "name": "C", "rank": 1, "points_multiplier": True},
                {"code": "d", "name": "D", "rank": 2, "points_multiplier": float("inf")},
                "gold",
            ]
        }
    )
    assert found == {
        "tiers[0].discount": "Must be a mapping.",
        "tiers[1].rank": "Two tiers with rank 0.",
        "tiers[1].upgrade_when": "Must be a mapping.",
        "tiers[2].points_multiplier": MULTIPLIER,
        "tiers[3].points_multiplier": MULTIPLIER,
        "tiers[4]": "Must be a mapping.",
    }


def test_rank_zero_is_required_only_once_every_rank_is_known():
    assert errors_of({"tiers": [{"code": "a", "name": "A", "rank": 1}]}) == {
        "tiers": "One tier must have rank 0: new members start there."
    }
    # "zero" may be the rank 0 meant: one error, not two.
    assert errors_of({"tiers": [{"code": "a", "name": "A", "rank": "zero"}]}) == {
        "tiers[0].rank": whole(0, 1000)
    }


# --- promotions: condition and benefit -------------------------------------------------------


def promotion(**fields: Any) -> dict[str, Any]:
    return {"code": "p", "name": "P", "kind": "automatic", **fields}


def test_promotion_cleaned_with_its_defaults_and_path():
    document = {
        "promotions": [
            promotion(benefit={"type": "percent", "value": 10}),
            promotion(
                code="q",
                kind="code",
                members_only=True,
                condition={
                    "min_amount": 10000,
                    "min_quantity": 2,
                    "skus": ["B", "A", "B"],
                    "categories": ["rooms"],
                    "tiers": ["gold", "silver", "gold"],
                    "weekdays": [7, 1, 7],
                    "stores": [],
                    "starts_at": "2027-03-01",
                    "ends_at": "2027-03-31",
                    "first_purchase": False,
                },
                benefit={"type": "fixed", "value": 500},
                stacking="exclusive",
                priority=-5,
            ),
        ]
    }
    assert validate_program(document)["promotions"] == [
        {
            "code": "p",
            "name": "P",
            "owner": None,  # HQ's
            "kind": "automatic",
            "paused": False,
            "members_only": False,
            "condition": {},
            "benefit": {"type": "percent", "value": 10},
            "stacking": "stackable",
            "priority": 100,
            "path": "promotions[0]",
        },
        {
            "code": "q",
            "name": "P",
            "owner": None,
            "kind": "code",
            "paused": False,
            "members_only": True,
            # Lists sorted without repeats; empty lists and false say nothing and are left out;
            # a bare end date includes its day.
            "condition": {
                "min_amount": 10000,
                "min_quantity": 2,
                "skus": ["A", "B"],
                "categories": ["rooms"],
                "tiers": ["gold", "silver"],
                "weekdays": [1, 7],
                "starts_at": dt.datetime(2027, 3, 1),
                "ends_at": dt.datetime(2027, 4, 1),
            },
            "benefit": {"type": "fixed", "value": 500},
            "stacking": "exclusive",
            "priority": -5,
            "path": "promotions[1]",
        },
    ]


def test_condition_errors():
    condition = {
        "min_quantity": 0,
        "skus": ["ROOM STD"],
        "categories": "rooms",
        "tiers": ["金卡"],
        "stores": [1],
        "weekdays": ["mon"],
        "starts_at": "next monday",
        "ends_at": "2027-02-30",
        "first_purchase": "yes",
    }
    found = errors_of(
        {"promotions": [promotion(condition=condition, benefit={"type": "free_shipping"})]}
    )
    at = "promotions[0].condition"
    assert found == {
        f"{at}.min_quantity": whole(1, 10**9),
        f"{at}.skus[0]": SKU,
        f"{at}.categories": "Must be a list.",
        f"{at}.tiers[0]": CODE,
        f"{at}.stores[0]": CODE,
        f"{at}.weekdays[0]": whole(1, 7),
        f"{at}.starts_at": MOMENT,
        f"{at}.ends_at": MOMENT,
        f"{at}.first_purchase": "Must be true or false.",
    }


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "refused"),
    [
        ("2027-03-01", "2027-03-01", False),  # the bare end date includes the whole day
        ("2027-03-01T10:00", "2027-03-01T10:00", True),
        (dt.datetime(2027, 3, 2), dt.date(2027, 3, 1), True),  # YAML timestamps and dates
        ("2027-03-01T10:00+08:00", "2027-03-01T01:00Z", True),
        ("2027-03-01T10:00+08:00", "2027-03-01T09:00", False),  # known when planning (zone)
    ],
)
def test_a_window_must_end_after_it_starts(starts_at, ends_at, refused):
    condition = {"starts_at": starts_at, "ends_at": ends_at}
    document = {"promotions": [promotion(condition=condition, benefit={"type": "free_shipping"})]}
    if refused:
        assert errors_of(document) == {
            "promotions[0].condition.ends_at": "Must be later than the start."
        }
    else:
        validate_program(document)


# Every benefit type: (benefit as written, as cleaned).
VALID_BENEFITS = [
    ({"type": "percent", "value": 100}, {"type": "percent", "value": 100}),
    ({"type": "fixed", "value": 1, "skus": []}, {"type": "fixed", "value": 1}),
    ({"type": "fixed_price", "value": 0}, {"type": "fixed_price", "value": 0}),
    (
        {"type": "free_items", "buy": 2, "get": 1, "categories": ["drinks", "drinks"]},
        {"type": "free_items", "buy": 2, "get": 1, "categories": ["drinks"]},
    ),
    ({"type": "free_items", "quantity": 1}, {"type": "free_items", "quantity": 1}),
    (
        {"type": "cheapest_percent", "value": 50, "max_discount": 2000},
        {"type": "cheapest_percent", "value": 50, "max_discount": 2000},
    ),
    ({"type": "gift", "sku": "TEA"}, {"type": "gift", "sku": "TEA", "quantity": 1}),
    ({"type": "gift", "sku": "TEA", "quantity": 2}, {"type": "gift", "sku": "TEA", "quantity": 2}),
    (
        {"type": "points_multiplier", "value": 1.5, "skus": ["B", "A"]},
        {"type": "points_multiplier", "value": 150, "skus": ["A", "B"]},  # stored in percent
    ),
    ({"type": "free_shipping"}, {"type": "free_shipping"}),
]

# Every benefit type refused: (benefit, {path under benefit: reason}).
INVALID_BENEFITS = [
    ({"type": "percent", "value": 0}, {"value": whole(1, 100)}),
    ({"type": "percent"}, {"value": "Required."}),
    ({"type": "fixed", "value": 0}, {"value": whole(1, 10**12)}),
    ({"type": "fixed", "value": "5"}, {"value": whole(1, 10**12)}),
    ({"type": "fixed_price", "value": -1}, {"value": WHOLE_FEN}),
    ({"type": "free_items", "buy": 2}, {"get": "Required with buy/get."}),
    ({"type": "free_items", "get": 1}, {"buy": "Required with buy/get."}),
    (
        {"type": "free_items", "buy": 2, "get": 1, "quantity": 1},
        {"quantity": "Give buy and get, or quantity, not both."},
    ),
    ({"type": "free_items"}, {"": "Give buy and get (e.g. buy 2 get 1), or quantity."}),
    ({"type": "free_items", "quantity": 0}, {"quantity": whole(1, 10**9)}),
    ({"type": "cheapest_percent", "value": 101}, {"value": whole(1, 100)}),
    ({"type": "gift", "sku": "TEA BAG", "quantity": 0}, {"sku": SKU, "quantity": whole(1, 10**9)}),
    ({"type": "gift", "value": 5}, {"sku": "Required.", "value": "Unknown key."}),
    ({"type": "points_multiplier", "value": 1.005}, {"value": MULTIPLIER}),
    ({"type": "points_multiplier", "value": 101}, {"value": MULTIPLIER}),
    ({"type": "free_shipping", "value": 1}, {"value": "Unknown key."}),
    (
        {"type": "percent", "value": 10, "skus": "A", "categories": [""], "max_discount": 0},
        {"skus": "Must be a list.", "categories[0]": CATEGORY, "max_discount": whole(1, 10**12)},
    ),
    ({"type": "bogus", "value": 1}, {"type": BENEFIT_TYPE}),
    ({"value": 10}, {"type": BENEFIT_TYPE}),
    ({"type": None}, {"type": BENEFIT_TYPE}),
    ("percent", {"": "Must be a mapping."}),
]


def test_every_benefit_type_is_covered():
    assert {benefit["type"] for benefit, _cleaned in VALID_BENEFITS} == set(BENEFIT_TYPES)
    refused = {b["type"] for b, _found in INVALID_BENEFITS if isinstance(b, dict) and "type" in b}
    assert set(BENEFIT_TYPES) <= refused


@pytest.mark.parametrize(("benefit", "cleaned"), VALID_BENEFITS)
def test_each_benefit_type_cleaned(benefit, cleaned):
    document = {
        "promotions": [promotion(benefit=benefit)],
        "coupon_templates": [{"code": "t", "name": "T", "benefit": benefit, "valid_days": 7}],
    }
    found = validate_program(copy.deepcopy(document))
    assert found["promotions"][0]["benefit"] == cleaned
    assert found["coupon_templates"][0]["benefit"] == cleaned
    # In the order the file shows them: type first.
    assert next(iter(found["promotions"][0]["benefit"])) == "type"


@pytest.mark.parametrize(("benefit", "expected"), INVALID_BENEFITS)
def test_each_benefit_type_refused_with_its_paths(benefit, expected):
    document = {
        "promotions": [promotion(benefit=benefit)],
        "coupon_templates": [{"code": "t", "name": "T", "benefit": benefit, "valid_days": 7}],
    }
    found = errors_of(document)
    for at in ("promotions[0].benefit", "coupon_templates[0].benefit"):
        assert {path: message for path, message in found.items() if path.startswith(at)} == {
            f"{at}.{key}" if key else at: message for key, message in expected.items()
        }
    assert len(found) == 2 * len(expected)


def test_promotion_fields():
    found = errors_of(
        {
            "promotions": [
                promotion(kind="flash", members_only=1, benefit={"type": "free_shipping"}),
                promotion(code="P 2", name=None, kind="coupon"),
                promotion(condition=None, benefit={"type": "free_shipping"}, stacking=None),
            ]
        }
    )
    assert found == {
        "promotions[0].kind": "One of: automatic, code",
        "promotions[0].members_only": "Must be true or false.",
        "promotions[1].code": CODE,
        "promotions[1].name": "A name of 1 to 100 characters.",
        "promotions[1].kind": "Coupons are configured under coupon_templates, not as promotions.",
        "promotions[1].benefit": "Required.",
        "promotions[2].code": "Duplicate code p.",
        "promotions[2].condition": "Must be a mapping.",
        "promotions[2].stacking": "One of: stackable, exclusive",
    }


# --- coupon templates ------------------------------------------------------------------------


def test_coupon_templates_cleaned():
    document = {
        "coupon_templates": [
            {
                "code": "a",
                "name": "A",
                "benefit": {"type": "fixed", "value": 500},
                "valid_days": 30,
            },
            {
                "code": "b",
                "name": "B",
                "benefit": {"type": "gift", "sku": "TEA"},
                "condition": {"min_amount": 10000, "weekdays": []},
                "stacking": "exclusive",
                "priority": 5,
                "valid_from": "2027-01-01T09:00:00+08:00",
                "valid_until": "2027-01-31",
                "per_member_limit": 1,
                "stock": 0,
            },
        ]
    }
    assert validate_program(document)["coupon_templates"] == [
        {
            "code": "a",
            "name": "A",
            "owner": None,
            "paused": False,
            "condition": {},
            "benefit": {"type": "fixed", "value": 500},
            "stacking": "stackable",
            "priority": 100,
            "valid_days": 30,
            "valid_from": None,
            "valid_until": None,
            "per_member_limit": None,
            "stock": None,
            "path": "coupon_templates[0]",
        },
        {
            "code": "b",
            "name": "B",
            "owner": None,
            "paused": False,
            "condition": {"min_amount": 10000},
            "benefit": {"type": "gift", "sku": "TEA", "quantity": 1},
            "stacking": "exclusive",
            "priority": 5,
            "valid_days": None,
            "valid_from": dt.datetime(2027, 1, 1, 9, tzinfo=dt.timezone(dt.timedelta(hours=8))),
            "valid_until": dt.datetime(2027, 2, 1),
            "per_member_limit": 1,
            "stock": 0,
            "path": "coupon_templates[1]",
        },
    ]


def test_coupon_template_window_errors():
    benefit = {"type": "percent", "value": 5}
    found = errors_of(
        {
            "coupon_templates": [
                {"code": "a", "name": "A", "benefit": benefit, "valid_until": "2027-01-01"},
                {
                    "code": "b",
                    "name": "B",
                    "benefit": benefit,
                    "valid_from": "2027-02-01",
                    "valid_until": "2027-01-31",
                },
                {"code": "c", "name": "C", "benefit": benefit, "valid_days": 1, "colour": 1},
            ]
        }
    )
    assert found == {
        "coupon_templates[0].valid_from": "Required with the other one.",
        "coupon_templates[1].valid_until": "Must be later than the start.",
        "coupon_templates[2].colour": "Unknown key.",
    }


# --- the whole file --------------------------------------------------------------------------


def test_every_error_of_every_section_is_listed_at_once_in_file_order():
    with pytest.raises(ValidationFailed) as caught:
        validate_program(
            {
                "checkout": {"backdate_days": -1},
                "stores": [{"code": "S1"}],
                "categories": [1],
                "points": {"pending_days": -1},
                "topup_bonus": [{"min": 0, "bonus": 0}],
                "stored_value": {"max_topup": 0},
                "tiers": [
                    {"code": "a", "name": "A", "rank": 1},
                    {"code": "a", "name": "", "rank": 0},
                ],
                "promotions": [promotion(benefit={"type": "percent", "value": 0})],
                "coupon_templates": [{"code": "t", "name": "T", "benefit": {"type": "gift"}}],
                "rewards": [{"code": "m", "name": "M", "points": 0, "kind": "goods"}],
                "colour": "blue",
            }
        )
    assert [error.field for error in caught.value.errors] == [
        "checkout.backdate_days",
        "stores[0].name",
        "categories[0]",
        "points.pending_days",
        "topup_bonus[0].min",
        "stored_value.max_topup",
        "tiers[1].name",
        "tiers[1].code",  # checks across items come after those of the fields
        "promotions[0].benefit.value",
        "coupon_templates[0].benefit.sku",
        "coupon_templates[0]",
        "rewards[0].points",
        "colour",
    ]
    assert caught.value.detail == "The program file has 13 error(s)."


def test_reasons_are_translated():
    with translation.override("zh-hans"), pytest.raises(ValidationFailed) as caught:
        validate_program({"tiers": [{"code": "a", "name": "A", "rank": 1001, "x": 1}]})
    assert {e.field: str(e.message) for e in caught.value.errors} == {
        "tiers[0].rank": "请输入 0 到 1000 之间的整数。",
        "tiers[0].x": "未知的键。",
    }


# --- the JSON Schema -------------------------------------------------------------------------


def resolve(schema: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in part:
        part = schema["$defs"][part["$ref"].rsplit("/", 1)[1]]
    return part


def item_keys(schema: dict[str, Any], section: str) -> set[str]:
    """The keys an editor offers in a section (in its items when it is a list)."""
    part = resolve(schema, schema["properties"][section])
    if part.get("type") == "array":
        part = resolve(schema, part["items"])
    return set(part.get("properties", {}))


def test_the_json_schema_describes_every_section():
    schema = program_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "Patron program file"
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == set(SECTIONS)
    assert item_keys(schema, "stores") == {"code", "name", "address", "phone"}
    assert item_keys(schema, "tiers") == {
        "code",
        "name",
        "rank",
        "discount",
        "points_multiplier",
        "upgrade_when",
        "keep_when",
        "grace_days",
        "birthday_gift",
        "privileges",
    }
    assert {"fee", "tier", "paid_days", "refund", "replace_fee"} <= item_keys(
        schema, "card_products"
    )
    assert item_keys(schema, "recruitment") == {"min_purchase", "min_spend_total", "min_age"}
    assert item_keys(schema, "points") == {
        "earn",
        "earn_exclude_categories",
        "redeem_cash",
        "expiry",
        "pending_days",
    }
    assert item_keys(schema, "checkout") >= {"pin_required_above", "refund_returns_coupons"}
    assert "valid_days" in item_keys(schema, "coupon_templates")
    promotion_schema = resolve(schema, resolve(schema, schema["properties"]["promotions"])["items"])
    assert set(promotion_schema["required"]) == {"code", "name", "kind", "benefit"}
    benefit = promotion_schema["properties"]["benefit"]
    assert benefit["discriminator"]["propertyName"] == "type"
    types = [resolve(schema, member)["properties"]["type"]["const"] for member in benefit["oneOf"]]
    assert types == list(BENEFIT_TYPES)


def demo_program() -> dict[str, Any]:
    """The demo merchant's program, as `patron program export --json` writes it."""
    call_command("demo", "--members", "0", stdout=StringIO())
    out = StringIO()
    call_command("program", "export", "--merchant", "demo", "--json", stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_the_json_schema_validates_the_demo_program_and_rejects_a_broken_one():
    validator = jsonschema.Draft202012Validator(program_json_schema())
    document = demo_program()
    assert {"stores", "tiers", "promotions", "coupon_templates", "checkout"} <= set(document)
    validator.validate(document)
    validate_program(document)  # the server agrees

    broken = copy.deepcopy(document)
    broken["tiers"][0]["rank"] = "zero"
    broken["promotions"][0]["benefit"] = {"type": "percent", "value": 10, "sku": "TEA"}
    broken["coupon_templates"][0]["valid_days"] = 0
    broken["points"]["expiry"] = {"policy": "weekly"}
    broken["colour"] = "blue"
    found = {"/".join(map(str, error.absolute_path)) for error in validator.iter_errors(broken)}
    assert found == {
        "tiers/0/rank",
        "promotions/0/benefit",
        "coupon_templates/0/valid_days",
        "points/expiry",
        "",  # the unknown section
    }
    with pytest.raises(ValidationFailed):
        validate_program(broken)


@pytest.mark.parametrize(
    "document",
    [
        {"stores": [{"code": "S 1", "name": "x"}]},
        {"categories": ["a b"]},
        {"tiers": [{"code": "a", "name": "A", "rank": 0, "points_multiplier": 0}]},
        {"promotions": [promotion(benefit={"type": "gift"})]},
        {"promotions": [promotion(kind="coupon", benefit={"type": "free_shipping"})]},
        {"checkout": {"pin_max_attempts": 0}},
        {"topup_bonus": [{"min": 1}]},
    ],
)
def test_the_json_schema_and_the_server_both_refuse(document):
    assert not jsonschema.Draft202012Validator(program_json_schema()).is_valid(document)
    with pytest.raises(ValidationFailed):
        validate_program(document)


def test_patron_program_schema_prints_it():
    out = StringIO()
    call_command("program", "schema", stdout=out)
    assert json.loads(out.getvalue()) == program_json_schema()


@pytest.mark.skipif(
    os.environ.get("PATRON_DATABASE_URL", "").startswith("postgres"),
    reason="the console script uses its own SQLite file; covered by the SQLite run",
)
def test_the_console_script_prints_it(patron_cli):
    done = patron_cli("program", "schema")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == program_json_schema()


def test_the_api_serves_it(api, client):
    response = api.get(SCHEMA_URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == program_json_schema()
    assert client.get(SCHEMA_URL).status_code == 401
