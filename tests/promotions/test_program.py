"""Program sections `tiers`, `promotions`, `coupon_templates` (API.md §2, §5)."""

from __future__ import annotations

import datetime as dt

import pytest

from patron.core.errors import ValidationFailed
from patron.program.models import ProgramRevision
from patron.program.services import (
    apply_program,
    dump_yaml,
    export_program,
    parse_document,
    validate_program,
)
from patron.promotions.models import CouponTemplate, Promotion, Tier
from tests.promotions.conftest import PROGRAM, program

pytestmark = [pytest.mark.postgres]
UTC = dt.UTC


def errors_of(document: dict) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        validate_program(document)
    return {error.field: str(error.message) for error in caught.value.errors}


def rows(model, merchant) -> list[tuple]:
    """Everything a program apply may write to a table, to compare before and after."""
    fields = [f.name for f in model._meta.fields if f.name not in ("id", "created_at")]
    return sorted(model.objects.filter(merchant=merchant).values_list(*fields))


def state(merchant) -> dict:
    return {
        model.__name__: rows(model, merchant) for model in (Tier, Promotion, CouponTemplate)
    } | {"revisions": ProgramRevision.objects.filter(merchant=merchant).count()}


# --- validation ------------------------------------------------------------------------------


def test_the_sample_program_is_valid():
    cleaned = validate_program(program())
    assert [row["code"] for row in cleaned["tiers"]] == ["normal", "silver", "gold"]
    assert cleaned["tiers"][2]["points_multiplier_percent"] == 150
    assert cleaned["promotions"][2]["benefit"] == {"type": "points_multiplier", "value": 200}


def test_tier_errors_carry_their_paths():
    found = errors_of(
        program(
            tiers=[
                {"code": "normal", "name": "普通", "rank": 1},
                {"code": "normal", "name": "", "rank": 1, "colour": "red"},
                {
                    "code": "gold",
                    "name": "金卡",
                    "rank": 2,
                    "discount": {"rooms": 0, "bad category": 90},
                    "points_multiplier": 1.333,
                    "upgrade_when": {"spend_12m": -1, "visits": 3},
                },
            ]
        )
    )
    assert found == {
        "tiers[1].colour": "Unknown key.",
        "tiers[1].code": "Duplicate code normal.",
        "tiers[1].name": "A name of 1 to 100 characters.",
        "tiers[1].rank": "Two tiers with rank 1.",
        "tiers[2].discount.rooms": "A whole number from 1 to 100.",
        "tiers[2].discount.bad category": (
            "A category of 1 to 40 characters without spaces or commas."
        ),
        "tiers[2].points_multiplier": (
            "A number greater than 0 and at most 100, with at most two decimals (e.g. 1.5)."
        ),
        "tiers[2].upgrade_when.spend_12m": "A whole number from 0 to 1000000000000.",
        "tiers[2].upgrade_when.visits": "Unknown key.",
        "tiers": "One tier must have rank 0: new members start there.",
    }


def test_an_empty_tiers_section_is_allowed_and_a_bool_is_not_a_rank():
    assert validate_program({"tiers": []}) == {"tiers": []}
    assert errors_of({"tiers": [{"code": "a", "name": "A", "rank": True}]}) == {
        "tiers[0].rank": "A whole number from 0 to 1000."
    }


def test_promotion_errors_carry_their_paths():
    found = errors_of(
        program(
            promotions=[
                {"code": "a", "name": "A", "kind": "coupon", "benefit": {"type": "percent"}},
                {
                    "code": "b",
                    "name": "B",
                    "kind": "automatic",
                    "condition": {
                        "weekdays": [0, 8],
                        "starts_at": "2027-03-02",
                        "ends_at": "2027-03-01T00:00:00",
                        "min_amount": "100",
                        "colour": "red",
                    },
                    "benefit": {"type": "percent", "value": 101, "sku": "X"},
                    "stacking": "sometimes",
                    "priority": 1.5,
                },
                {"code": "c", "name": "C", "kind": "code"},
                {
                    "code": "d",
                    "name": "D",
                    "kind": "code",
                    "benefit": {"type": "free_items", "buy": 2},
                },
                {"code": "e", "name": "E", "kind": "code", "benefit": {"type": "bogus"}},
                {
                    "code": "f",
                    "name": "F",
                    "kind": "code",
                    "benefit": {"type": "points_multiplier", "value": 0},
                },
                {
                    "code": "g",
                    "name": "G",
                    "kind": "code",
                    "benefit": {"type": "gift", "quantity": 0},
                },
            ]
        )
    )
    assert found == {
        "promotions[0].kind": "Coupons are configured under coupon_templates, not as promotions.",
        "promotions[0].benefit.value": "Required.",
        "promotions[1].condition.colour": "Unknown key.",
        "promotions[1].condition.min_amount": "A whole number from 0 to 1000000000000.",
        "promotions[1].condition.weekdays[0]": "A whole number from 1 to 7.",
        "promotions[1].condition.weekdays[1]": "A whole number from 1 to 7.",
        "promotions[1].condition.ends_at": "Must be later than the start.",
        "promotions[1].benefit.sku": "Unknown key.",
        "promotions[1].benefit.value": "A whole number from 1 to 100.",
        "promotions[1].stacking": "One of: stackable, exclusive",
        "promotions[1].priority": "A whole number from -1000000 to 1000000.",
        "promotions[2].benefit": "Required.",
        "promotions[3].benefit.get": "Required with buy/get.",
        "promotions[4].benefit.type": (
            "One of: percent, fixed, fixed_price, free_items, cheapest_percent, gift, "
            "points_multiplier, free_shipping"
        ),
        "promotions[5].benefit.value": (
            "A number greater than 0 and at most 100, with at most two decimals (e.g. 1.5)."
        ),
        "promotions[6].benefit.sku": "Required.",
        "promotions[6].benefit.quantity": "A whole number from 1 to 1000000000.",
    }


def test_coupon_template_validity_is_one_of_days_or_a_window():
    benefit = {"type": "fixed", "value": 500}
    found = errors_of(
        {
            "coupon_templates": [
                {"code": "a", "name": "A", "benefit": benefit},
                {
                    "code": "b",
                    "name": "B",
                    "benefit": benefit,
                    "valid_days": 3,
                    "valid_until": "2027-01-01",
                },
                {"code": "c", "name": "C", "benefit": benefit, "valid_from": "2027-01-01"},
                {"code": "d", "name": "D", "benefit": benefit, "valid_days": 0, "stock": -1},
                {
                    "code": "e",
                    "name": "E",
                    "benefit": benefit,
                    "valid_from": "someday",
                    "valid_until": "2027-01-01",
                    "per_member_limit": 0,
                },
                "not a mapping",
            ]
        }
    )
    assert found == {
        "coupon_templates[0]": (
            "Say how long coupons are valid: valid_days, or valid_from and valid_until."
        ),
        "coupon_templates[1].valid_days": (
            "Give valid_days or valid_from and valid_until, not both."
        ),
        "coupon_templates[2].valid_until": "Required with the other one.",
        "coupon_templates[3].valid_days": "A whole number from 1 to 36500.",
        "coupon_templates[3].stock": "A whole number from 0 to 1000000000.",
        "coupon_templates[4].valid_from": (
            "An ISO 8601 date or time, e.g. 2027-03-01 or 2027-03-01T09:00:00+08:00."
        ),
        "coupon_templates[4].per_member_limit": "A whole number from 1 to 1000000000.",
        "coupon_templates[5]": "Must be a mapping.",
    }


def test_sections_must_be_lists():
    assert errors_of({"tiers": {}, "promotions": "x", "coupon_templates": 3}) == {
        "tiers": "Must be a list.",
        "promotions": "Must be a list.",
        "coupon_templates": "Must be a list.",
    }


def test_an_invalid_file_applies_nothing(system, stores):
    document = program()
    document["promotions"][1]["benefit"]["value"] = 0
    with pytest.raises(ValidationFailed):
        apply_program(system, document)
    assert Tier.objects.count() == Promotion.objects.count() == 0


# --- apply, replace, end, reactivate ---------------------------------------------------------


def test_apply_creates_rows_in_the_stored_shape(applied):
    merchant = applied.merchant
    gold = Tier.objects.get(merchant=merchant, code="gold")
    assert (gold.rank, gold.discount, gold.points_multiplier_percent) == (
        2,
        {"dishes": 90, "rooms": 80},
        150,
    )
    assert gold.upgrade_when == {"spend_12m": 500000, "single_topup": 100000}
    spring = Promotion.objects.get(merchant=merchant, code="SPRING10")
    # A time without an offset is in the merchant's zone (Asia/Shanghai); stored in UTC.
    assert spring.starts_at == dt.datetime(2027, 2, 28, 16, tzinfo=UTC)
    assert spring.ends_at == dt.datetime(2027, 3, 31, 16, tzinfo=UTC)
    assert spring.condition == {
        "min_amount": 20000,
        "starts_at": "2027-02-28T16:00:00+00:00",
        "ends_at": "2027-03-31T16:00:00+00:00",
    }
    assert (spring.kind, spring.stacking, spring.priority, spring.members_only) == (
        "code",
        "stackable",
        100,
        False,
    )
    double = Promotion.objects.get(merchant=merchant, code="double")
    assert double.condition == {"tiers": ["gold", "silver"], "stores": ["S1"]}
    assert double.benefit == {"type": "points_multiplier", "value": 200}
    cny = CouponTemplate.objects.get(merchant=merchant, code="cny")
    # A bare valid_until date includes that whole day: the coupon ends at the next midnight.
    assert cny.valid_from == dt.datetime(2099, 1, 31, 16, tzinfo=UTC)
    assert cny.valid_until == dt.datetime(2099, 2, 28, 16, tzinfo=UTC)
    assert (cny.valid_days, cny.stock, cny.per_member_limit) == (None, 100, None)
    room = CouponTemplate.objects.get(merchant=merchant, code="room_night")
    assert room.benefit == {"type": "free_items", "quantity": 1, "skus": ["ROOM-STD"]}


def test_applying_the_same_file_twice_changes_nothing(applied):
    before = state(applied.merchant)
    assert apply_program(applied, program()) == []
    assert state(applied.merchant) == before


def test_a_section_replaces_ends_and_reactivates(applied):
    merchant = applied.merchant
    tiers = [row for row in PROGRAM["tiers"] if row["code"] != "silver"]
    tiers[1] = {**tiers[1], "name": "黄金会员"}
    promotions = PROGRAM["promotions"][:1]
    changes = apply_program(applied, program(tiers=tiers, promotions=promotions))
    shown = [str(change) for change in changes]
    assert "~ tiers gold name: '金卡会员' -> '黄金会员'" in shown
    assert "- tiers silver (ended, history kept)" in shown
    assert "- promotions SPRING10 (ended, history kept)" in shown
    assert "- promotions double (ended, history kept)" in shown
    assert len(shown) == 4  # coupon_templates unchanged
    silver = Tier.objects.get(merchant=merchant, code="silver")
    assert not silver.is_active
    assert Promotion.objects.filter(merchant=merchant).count() == 3  # kept for history
    assert [t["code"] for t in export_program(applied)["tiers"]] == ["normal", "gold"]

    changes = apply_program(applied, program())
    shown = [str(change) for change in changes]
    assert "~ tiers silver (reactivated)" in shown
    assert "~ promotions double (reactivated)" in shown
    assert Tier.objects.get(pk=silver.pk).is_active


def test_an_absent_section_is_left_alone(applied):
    assert apply_program(applied, {"tiers": PROGRAM["tiers"]}) == []
    assert Promotion.objects.filter(merchant=applied.merchant, is_active=True).count() == 3


def test_an_empty_section_ends_everything(applied):
    changes = apply_program(applied, {"promotions": [], "coupon_templates": []})
    assert len(changes) == 5
    assert not Promotion.objects.filter(is_active=True).exists()
    assert not CouponTemplate.objects.filter(is_active=True).exists()


def test_ranks_can_be_swapped_in_one_apply(applied):
    tiers = [dict(row) for row in PROGRAM["tiers"]]
    tiers[1]["rank"], tiers[2]["rank"] = 2, 1
    # Higher ranks ask more (tier order rules): the thresholds swap with the ranks.
    tiers[1]["upgrade_when"], tiers[2]["upgrade_when"] = (
        tiers[2].get("upgrade_when"),
        tiers[1].get("upgrade_when"),
    )
    apply_program(applied, program(tiers=tiers))
    ranks = dict(Tier.objects.values_list("code", "rank"))
    assert ranks == {"normal": 0, "silver": 2, "gold": 1}


def test_dry_run_lists_changes_and_writes_nothing(applied):
    before = state(applied.merchant)
    changes = apply_program(applied, program(promotions=[]), dry_run=True)
    assert len(changes) == 3
    assert state(applied.merchant) == before


def test_a_naive_end_before_an_aware_start_is_caught_when_planning(system, stores):
    document = {
        "promotions": [
            {
                "code": "p",
                "name": "P",
                "kind": "automatic",
                "benefit": {"type": "percent", "value": 5},
                # 09:00 in Shanghai is 01:00 UTC: before the start at 02:00 UTC.
                "condition": {"starts_at": "2027-03-01T02:00:00Z", "ends_at": "2027-03-01T09:00"},
            }
        ]
    }
    with pytest.raises(ValidationFailed) as caught:
        apply_program(system, document)
    assert caught.value.errors[0].field == "promotions[0].condition.ends_at"
    assert not Promotion.objects.exists()


# --- export ----------------------------------------------------------------------------------


def test_export_shows_times_in_the_merchant_zone_and_multipliers_as_numbers(applied):
    exported = export_program(applied)
    spring = next(p for p in exported["promotions"] if p["code"] == "SPRING10")
    assert spring["condition"] == {
        "min_amount": 20000,
        "starts_at": "2027-03-01T00:00:00+08:00",
        "ends_at": "2027-04-01T00:00:00+08:00",
    }
    double = next(p for p in exported["promotions"] if p["code"] == "double")
    assert double["benefit"] == {"type": "points_multiplier", "value": 2}
    assert [p["code"] for p in exported["promotions"]] == ["tuesday", "double", "SPRING10"]
    gold = exported["tiers"][2]
    assert gold == {
        "code": "gold",
        "name": "金卡会员",
        "rank": 2,
        "discount": {"dishes": 90, "rooms": 80},
        "points_multiplier": 1.5,
        "upgrade_when": {"spend_12m": 500000, "single_topup": 100000},
    }
    cny = next(t for t in exported["coupon_templates"] if t["code"] == "cny")
    assert cny["valid_from"] == "2099-02-01T00:00:00+08:00"
    assert cny["valid_until"] == "2099-03-01T00:00:00+08:00"
    assert cny["stock"] == 100 and "valid_days" not in cny


def test_export_round_trips_through_yaml(applied):
    text = dump_yaml(export_program(applied))
    before = state(applied.merchant)
    assert apply_program(applied, parse_document(text)) == []
    assert state(applied.merchant) == before


YAML_DATES = """
promotions:
  - code: flash
    name: 限时
    kind: automatic
    condition: {starts_at: 2027-05-01, ends_at: 2027-05-03 12:00:00}
    benefit: {type: cheapest_percent, value: 50}
coupon_templates:
  - code: may
    name: 五一券
    benefit: {type: gift, sku: TEA}
    valid_from: 2027-05-01T00:00:00+08:00
    valid_until: 2027-05-05
"""


def test_yaml_dates_and_timestamps_are_understood(system, stores):
    cleaned = validate_program(parse_document(YAML_DATES))
    flash = cleaned["promotions"][0]["condition"]
    assert flash == {
        "starts_at": dt.datetime(2027, 5, 1),
        "ends_at": dt.datetime(2027, 5, 3, 12),
    }
    may = cleaned["coupon_templates"][0]
    assert may["benefit"] == {"type": "gift", "sku": "TEA", "quantity": 1}
    assert may["valid_until"] == dt.datetime(2027, 5, 6)  # the whole of 5 May
    changes = apply_program(system, parse_document(YAML_DATES), dry_run=True)
    assert [str(c) for c in changes] == ["+ promotions flash 限时", "+ coupon_templates may 五一券"]


def test_a_file_with_yaml_dates_applies(system, stores):
    apply_program(system, parse_document(YAML_DATES))
    flash = Promotion.objects.get(code="flash")
    assert flash.starts_at == dt.datetime(2027, 4, 30, 16, tzinfo=UTC)
    assert flash.ends_at == dt.datetime(2027, 5, 3, 4, tzinfo=UTC)
    assert CouponTemplate.objects.get(code="may").valid_until == dt.datetime(
        2027, 5, 5, 16, tzinfo=UTC
    )
    assert apply_program(system, parse_document(YAML_DATES)) == []


def test_a_changed_window_is_one_change(applied):
    document = program()
    document["promotions"][1]["condition"]["ends_at"] = "2027-04-15T00:00:00+08:00"
    changes = [str(c) for c in apply_program(applied, document)]
    assert len(changes) == 1 and changes[0].startswith("~ promotions SPRING10 condition: ")
    spring = Promotion.objects.get(code="SPRING10")
    assert spring.ends_at == dt.datetime(2027, 4, 14, 16, tzinfo=UTC)


def test_tier_rules_that_overlap_or_form_no_order_are_refused_with_their_paths():
    found = errors_of(
        {
            "tiers": [
                {"code": "normal", "name": "普通", "rank": 0, "keep_when": {"visits_12m": 1}},
                {
                    "code": "silver",
                    "name": "银卡",
                    "rank": 1,
                    "upgrade_when": {"spend_12m": 100000},
                    "keep_when": {"spend_12m": 100001},
                },
                {"code": "gold", "name": "金卡", "rank": 2, "upgrade_when": {"spend_12m": 100000}},
            ]
        }
    )
    assert found == {
        "tiers[0].keep_when": ("The rank-0 tier is where new members start: no keep_when here."),
        "tiers[1].keep_when.spend_12m": (
            "Must not be more than this tier's own upgrade threshold (100000)."
        ),
        "tiers[2].upgrade_when.spend_12m": (
            "Must be greater than 100000, what silver (a lower rank) asks."
        ),
    }


def test_tier_rules_in_order_pass():
    ordered = {
        "tiers": [
            {"code": "normal", "name": "普通", "rank": 0},
            {"code": "silver", "name": "银卡", "rank": 1, "upgrade_when": {"spend_12m": 1000}},
            {"code": "gold", "name": "金卡", "rank": 2, "upgrade_when": {"spend_12m": 1001}},
        ]
    }
    assert len(validate_program(ordered)["tiers"]) == 3
