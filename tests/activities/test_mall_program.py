# ruff: noqa: F811
# (the fixtures imported from mall_support are the tests' parameters)
"""Section `rewards`: checked with each error's path, applied, diffed, exported and re-applied
without change; a reward left out is ended with its redemptions kept."""

from __future__ import annotations

import pytest

from patron.activities import mall
from patron.activities.models import Redemption, Reward
from patron.core.errors import ValidationFailed
from patron.program.services import apply_program, export_program
from tests.activities.mall_support import (  # noqa: F401
    FREE_NIGHT,
    MUG,
    PROGRAM,
    ROOM_NIGHT,
    member,
    rewards,
)

pytestmark = pytest.mark.django_db


def refused(hq, document) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as error:
        apply_program(hq, document)
    return {e.field: str(e.message) for e in error.value.errors}


def test_apply_export_and_apply_again_changes_nothing(hq):
    changes = apply_program(hq, PROGRAM)
    assert {str(c) for c in changes if c.section == "rewards"} == {
        "+ rewards free_night 免费房一晚",
        "+ rewards mug 马克杯",
    }
    exported = export_program(hq)
    assert exported["rewards"] == [FREE_NIGHT, MUG]
    assert apply_program(hq, {"rewards": exported["rewards"]}) == []


def test_a_change_is_planned_and_shown_by_dry_run(hq):
    apply_program(hq, PROGRAM)
    planned = apply_program(
        hq, {**PROGRAM, "rewards": [FREE_NIGHT, {**MUG, "points": 900}]}, dry_run=True
    )
    assert [str(c) for c in planned] == ["~ rewards mug points: 800 -> 900"]
    assert Reward.objects.get(code="mug").points == 800


def test_unknown_coupon_template_is_refused_with_its_path(hq):
    errors = refused(hq, {"rewards": [FREE_NIGHT]})
    assert "rewards[0].coupon" in errors
    assert not Reward.objects.exists()


def test_a_template_ended_by_the_same_file_is_unknown(hq):
    apply_program(hq, PROGRAM)
    errors = refused(hq, {"coupon_templates": [], "rewards": [FREE_NIGHT]})
    assert "rewards[0].coupon" in errors


def test_negative_stock_and_points_are_refused_with_paths(hq):
    errors = refused(
        hq,
        {
            "coupon_templates": [ROOM_NIGHT],
            "rewards": [
                {**MUG, "stock": -1},
                {**FREE_NIGHT, "points": 0},
                {**MUG, "code": "x", "cash": -5},
            ],
        },
    )
    assert {"rewards[0].stock", "rewards[1].points", "rewards[2].cash"} <= set(errors)
    assert not Reward.objects.exists()


def test_kind_and_coupon_must_agree(hq):
    errors = refused(
        hq,
        {
            "rewards": [
                {"code": "a", "name": "A", "points": 1, "kind": "coupon"},
                {"code": "b", "name": "B", "points": 1, "kind": "gift"},
            ]
        },
    )
    assert {"rewards[0].coupon", "rewards[1].kind"} <= set(errors)


def test_a_reward_left_out_is_ended_and_its_redemptions_kept(hq, member, rewards):
    mall.redeem(hq, member, rewards["mug"], key="k1")
    changes = apply_program(hq, {"rewards": [{**MUG, "code": "cup", "name": "杯子"}]})
    assert ("end", "mug") in {(c.op, c.key) for c in changes if c.section == "rewards"}
    mug = Reward.objects.get(code="mug")
    assert not mug.is_active and Redemption.objects.filter(reward=mug).count() == 1
    assert [r["code"] for r in export_program(hq)["rewards"]] == ["cup"]


def test_stock_below_what_was_redeemed_is_refused(hq, member, rewards):
    mall.redeem(hq, member, rewards["mug"], key="k1")
    mall.redeem(hq, member, rewards["mug"], key="k2")
    errors = refused(
        hq, {"rewards": [FREE_NIGHT, {**MUG, "stock": 1}], "coupon_templates": [ROOM_NIGHT]}
    )
    assert "rewards[1].stock" in errors
