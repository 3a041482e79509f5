"""The `insight` program section: defaults without it, a round trip through export, bad
values rejected with every error."""

from __future__ import annotations

import pytest

from patron.core.errors import ValidationFailed
from patron.insight.models import InsightPolicy
from patron.insight.program import DEFAULTS, stored_policy
from patron.program.services import apply_program, export_program

pytestmark = pytest.mark.django_db

DEFAULT_SECTION = {
    "lifecycle": {
        "default_cycle_days": 30,
        "min_cycle_days": 7,
        "min_visits": 3,
        "excited": 0.5,
        "active": 1.5,
        "inert": 3,
        "dormant_after_days": 365,
    }
}


def test_without_the_section_the_defaults_apply_and_export_shows_them(system):
    assert stored_policy(system.merchant) == DEFAULTS
    assert export_program(system)["insight"] == DEFAULT_SECTION


def test_a_section_round_trips_and_applying_it_again_changes_nothing(system):
    section = {"lifecycle": {"default_cycle_days": 14, "excited": 0.8, "inert": 2.5}}
    changes = apply_program(system, {"insight": section})
    assert {str(c) for c in changes} == {
        "~ insight lifecycle.default_cycle_days 30 -> 14",
        "~ insight lifecycle.excited 0.5 -> 0.8",
        "~ insight lifecycle.inert 3 -> 2.5",
    }
    exported = export_program(system)["insight"]
    assert exported["lifecycle"] == {
        **DEFAULT_SECTION["lifecycle"],
        "default_cycle_days": 14,
        "excited": 0.8,
        "inert": 2.5,
    }
    assert apply_program(system, {"insight": exported}) == []
    assert stored_policy(system.merchant).default_cycle_days == 14
    # A file whose lifecycle leaves keys out puts them back to their defaults.
    apply_program(system, {"insight": {"lifecycle": {}}})
    assert stored_policy(system.merchant) == DEFAULTS


def test_bad_values_are_rejected_with_every_error_and_nothing_written(system):
    bad = {
        "insight": {
            "lifecycle": {
                "default_cycle_days": -1,
                "min_visits": 1,
                "excited": 2.0,
                "active": 1.5,
                "dormant_after_days": 0,
                "later": 3,
            }
        }
    }
    with pytest.raises(ValidationFailed) as caught:
        apply_program(system, bad)
    fields = sorted(error.field for error in caught.value.errors)
    assert fields == [
        "insight.lifecycle.active",  # not above excited (2.0)
        "insight.lifecycle.default_cycle_days",
        "insight.lifecycle.dormant_after_days",
        "insight.lifecycle.later",
        "insight.lifecycle.min_visits",
    ]
    assert not InsightPolicy.objects.exists()


def test_the_thresholds_must_rise_and_the_floor_stay_below_the_default_cycle(system):
    with pytest.raises(ValidationFailed) as caught:
        apply_program(
            system,
            {"insight": {"lifecycle": {"active": 4, "min_cycle_days": 40, "excited": True}}},
        )
    messages = {error.field: error.message for error in caught.value.errors}
    assert set(messages) == {
        "insight.lifecycle.active",
        "insight.lifecycle.min_cycle_days",
        "insight.lifecycle.excited",
    }
    assert "inert" in messages["insight.lifecycle.active"]
