"""HQ and store activities in the program file (F-41): `owner` on promotions and coupon
templates (absent: HQ) round-trips through apply / export / diff, an unknown store is an error
with its path, and the `store_activities` section HQ sets is validated and kept."""

from __future__ import annotations

from typing import Any

import pytest

from patron.core.errors import ValidationFailed
from patron.program.models import ProgramRevision
from patron.program.services import apply_program, export_program
from patron.promotions.models import CouponTemplate, Promotion
from patron.promotions.store_activities import limits_for

pytestmark = [pytest.mark.django_db]

FILE: dict[str, Any] = {
    "stores": [{"code": "S1", "name": "西湖店"}, {"code": "S2", "name": "滨江店"}],
    "promotions": [
        {
            "code": "hq10",
            "name": "总部九折",
            "kind": "automatic",
            "benefit": {"type": "percent", "value": 10},
        },
        {
            "code": "s1off",
            "name": "西湖店立减",
            "owner": "S1",
            "kind": "automatic",
            "condition": {"stores": ["S1"]},
            "benefit": {"type": "fixed", "value": 500},
        },
    ],
    "coupon_templates": [
        {
            "code": "s2cup",
            "name": "滨江店券",
            "owner": "S2",
            "benefit": {"type": "fixed", "value": 1000},
            "valid_days": 30,
        }
    ],
    "store_activities": {"allowed": True, "max_percent_off": 20, "max_amount_off": 5000},
}


def test_owner_is_applied_exported_and_the_export_applies_to_nothing(system):
    # The stores are added by the same file: the owners are found when the plan runs.
    apply_program(system, FILE)
    assert Promotion.objects.get(code="hq10").owner_store is None
    assert Promotion.objects.get(code="s1off").owner_store.code == "S1"
    assert CouponTemplate.objects.get(code="s2cup").owner_store.code == "S2"
    document = export_program(system)
    promotions = {row["code"]: row for row in document["promotions"]}
    assert "owner" not in promotions["hq10"]
    assert promotions["s1off"]["owner"] == "S1"
    assert document["coupon_templates"][0]["owner"] == "S2"
    assert document["store_activities"] == {
        "allowed": True,
        "max_percent_off": 20,
        "max_amount_off": 5000,
    }
    revisions = ProgramRevision.objects.count()
    assert apply_program(system, document) == []
    assert ProgramRevision.objects.count() == revisions


def test_changing_the_owner_is_a_change_in_the_diff(system):
    apply_program(system, FILE)
    changed = {
        **FILE,
        "promotions": [{**FILE["promotions"][1], "owner": "S2"}, FILE["promotions"][0]],
    }
    lines = [str(change) for change in apply_program(system, changed, dry_run=True)]
    assert lines == ["~ promotions s1off owner_store: S1 -> S2"]
    apply_program(system, changed)
    assert Promotion.objects.get(code="s1off").owner_store.code == "S2"
    # Back to HQ: the key left out.
    to_hq = {
        **FILE,
        "promotions": [{k: v for k, v in FILE["promotions"][1].items() if k != "owner"}],
    }
    apply_program(system, to_hq)
    assert Promotion.objects.get(code="s1off").owner_store is None


def test_an_unknown_owner_is_an_error_with_its_path_and_nothing_is_written(system):
    bad = {
        **FILE,
        "coupon_templates": [{**FILE["coupon_templates"][0], "owner": "S9"}],
    }
    with pytest.raises(ValidationFailed) as raised:
        apply_program(system, bad)
    assert [e.field for e in raised.value.errors] == ["coupon_templates[0].owner"]
    assert "S9" in str(raised.value.errors[0].message)
    assert not Promotion.objects.exists()
    assert not CouponTemplate.objects.exists()


def test_files_without_owner_or_store_activities_stay_valid_and_stores_may_run_nothing(system):
    apply_program(system, {k: v for k, v in FILE.items() if k != "store_activities"})
    limits = limits_for(system.merchant)
    assert limits.allowed is False
    assert export_program(system)["store_activities"] == {}


@pytest.mark.parametrize(
    ("section", "path"),
    [
        ({"allowed": "yes"}, "store_activities.allowed"),
        ({"max_percent_off": 120}, "store_activities.max_percent_off"),
        ({"max_amount_off": -1}, "store_activities.max_amount_off"),
        ({"max_live": 0}, "store_activities.max_live"),
        ({"benefit_types": ["percent", "bogus"]}, "store_activities.benefit_types[1]"),
        ({"benefit_types": []}, "store_activities.benefit_types"),
        ({"allowed": True, "campaign": True}, "store_activities.campaign"),
    ],
)
def test_store_activities_refusals_have_their_path(system, section, path):
    with pytest.raises(ValidationFailed) as raised:
        apply_program(system, {"store_activities": section})
    assert [e.field for e in raised.value.errors] == [path]
    assert limits_for(system.merchant).pk is None or not limits_for(system.merchant).allowed


def test_store_activities_replaced_whole(system):
    apply_program(system, {"store_activities": {"allowed": True, "max_live": 3, "campaigns": True}})
    limits = limits_for(system.merchant)
    assert (limits.allowed, limits.max_live, limits.campaigns) == (True, 3, True)
    apply_program(system, {"store_activities": {"allowed": True}})
    limits = limits_for(system.merchant)
    assert (limits.max_live, limits.campaigns) == (None, False)
    assert export_program(system)["store_activities"] == {"allowed": True}


def test_the_api_lists_the_owner(system, api):
    apply_program(system, FILE)
    promotions = {row["code"]: row["owner"] for row in api.get("/api/v1/promotions").json()}
    assert promotions == {"hq10": None, "s1off": "S1"}
    templates = api.get("/api/v1/coupon-templates").json()
    assert [(row["code"], row["owner"]) for row in templates] == [("s2cup", "S2")]
