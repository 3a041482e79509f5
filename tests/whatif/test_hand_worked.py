"""Hand-worked histories replayed under a draft (issue 22, API.md §13): every figure worked out
by hand to the fen, and the current program's replay equal to what was recorded."""

from __future__ import annotations

import pytest

from patron.promotions.services import issue_coupon, set_member_tier
from patron.whatif import services as whatif
from tests.whatif.support import draft, member, run, sell, setup, tiers_with, today

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ZERO = {
    "revenue": 0,
    "discount": 0,
    "member_discount": 0,
    "points_earned": 0,
    "points_redeemed": 0,
    "points_liability_fen": 0,
}


@pytest.fixture
def shop(system, stores):
    setup(system)
    return system


def money(figures: dict) -> dict:
    return {key: figures[key] for key in ZERO}


def assert_faithful(result: whatif.Result, compared: int) -> None:
    assert result.compared == compared
    assert result.differences == []
    assert result.faithful
    assert "exactly as recorded" in result.faithful_line() or "完全一致" in result.faithful_line()


def test_gold_at_88_instead_of_80_on_rooms(shop):
    a = member(shop, "13800138001")
    set_member_tier(shop, a, "gold", reason="VIP")
    sell(shop, a, [("ROOM", "rooms", 100000)], "s1")
    document = draft(shop, tiers=tiers_with(shop, "gold", discount={"rooms": 88, "dishes": 90}))

    result = run(shop, document)

    # 1000 yuan room: gold pays 800 now (1.5x points on 800 = 1200), 880 under the draft (1320)
    assert result.sales == 1
    assert money(result.current.figures) == {
        "revenue": 80000,
        "discount": 0,
        "member_discount": 20000,
        "points_earned": 1200,
        "points_redeemed": 0,
        "points_liability_fen": 1200,
    }
    assert money(result.draft.figures) == {
        "revenue": 88000,
        "discount": 0,
        "member_discount": 12000,
        "points_earned": 1320,
        "points_redeemed": 0,
        "points_liability_fen": 1320,
    }
    diff = result.as_dict()["diff"]
    assert money(diff) == {
        "revenue": 8000,
        "discount": 0,
        "member_discount": -8000,
        "points_earned": 120,
        "points_redeemed": 0,
        "points_liability_fen": 120,
    }
    assert result.current.figures["by_tier"] == {"normal": 0, "silver": 0, "gold": 1}
    assert result.draft.figures["by_tier"] == {"normal": 0, "silver": 0, "gold": 1}
    assert_faithful(result, 1)


def test_points_doubled_on_the_sales_weekday(shop):
    b = member(shop, "13800138002")
    sell(shop, b, [("DISH", "dishes", 25000)], "s1")
    double = {
        "code": "double",
        "name": "双倍积分日",
        "kind": "automatic",
        "benefit": {"type": "points_multiplier", "value": 2},
        "condition": {"weekdays": [today().isoweekday()]},
    }
    result = run(shop, draft(shop, promotions=[double]))

    assert result.current.figures["points_earned"] == 250
    assert result.draft.figures["points_earned"] == 500
    assert result.current.figures["points_liability_fen"] == 250
    assert result.draft.figures["points_liability_fen"] == 500
    assert result.as_dict()["diff"]["revenue"] == 0
    assert result.draft.figures["by_promotion"] == {}  # a multiplier takes no fen off
    assert_faithful(result, 1)


def test_a_new_automatic_promotion_and_a_walk_in(shop):
    sell(shop, None, [("ROOM", "rooms", 60000)], "walk-in")
    rooms50 = {
        "code": "rooms50",
        "name": "客房立减 50",
        "kind": "automatic",
        "benefit": {"type": "fixed", "value": 5000},
        "condition": {"categories": ["rooms"], "min_amount": 50000},
    }
    result = run(shop, draft(shop, promotions=[rooms50]))

    assert money(result.current.figures) == {**ZERO, "revenue": 60000}
    assert money(result.draft.figures) == {**ZERO, "revenue": 55000, "discount": 5000}
    assert result.current.figures["by_promotion"] == {}
    assert result.draft.figures["by_promotion"] == {"rooms50": 5000}
    assert result.as_dict()["diff"]["by_promotion"] == {"rooms50": 5000}
    assert_faithful(result, 1)


def test_a_coupon_template_worth_more(shop):
    d = member(shop, "13800138004")
    coupon = issue_coupon(shop, d, "c20")
    sell(shop, d, [("DISH", "dishes", 30000)], "s1", codes=[coupon.code])
    templates = [
        {
            "code": "c20",
            "name": "满减券",
            "benefit": {"type": "fixed", "value": 3000},
            "valid_days": 30,
        }
    ]
    result = run(shop, draft(shop, coupon_templates=templates))

    assert money(result.current.figures) == {
        **ZERO,
        "revenue": 28000,
        "discount": 2000,
        "points_earned": 280,
        "points_liability_fen": 280,
    }
    assert money(result.draft.figures) == {
        **ZERO,
        "revenue": 27000,
        "discount": 3000,
        "points_earned": 270,
        "points_liability_fen": 270,
    }
    assert result.current.figures["by_promotion"] == {"c20": 2000}
    assert result.draft.figures["by_promotion"] == {"c20": 3000}
    assert_faithful(result, 1)


def test_tiers_move_under_the_drafts_rules_as_the_replay_walks(shop):
    e = member(shop, "13800138005")
    sell(shop, e, [("DISH", "dishes", 60000)], "s1")
    sell(shop, e, [("ROOM", "rooms", 100000)], "s2")  # 1600 yuan in all: silver from here
    sell(shop, e, [("ROOM", "rooms", 100000)], "s3")  # so this room is 12% off
    rows = tiers_with(shop, "silver", upgrade_when={"spend_12m": 50000})
    for row in rows:
        if row["code"] == "gold":
            row["upgrade_when"] = {"spend_12m": 150000}
    result = run(shop, draft(shop, tiers=rows))

    # Now: 600 + 1000 (normal) + 880 (silver) = 2480 yuan. Draft: silver after 600, so
    # 600 + 880 + 880 = 2360 yuan, which reaches the draft's gold (1500) after the third sale.
    assert money(result.current.figures) == {
        **ZERO,
        "revenue": 248000,
        "member_discount": 12000,
        "points_earned": 2480,
        "points_liability_fen": 2480,
    }
    assert money(result.draft.figures) == {
        **ZERO,
        "revenue": 236000,
        "member_discount": 24000,
        "points_earned": 2360,
        "points_liability_fen": 2360,
    }
    assert result.current.figures["by_tier"] == {"normal": 0, "silver": 1, "gold": 0}
    assert result.draft.figures["by_tier"] == {"normal": 0, "silver": 0, "gold": 1}
    assert result.tier_moves() == [(e.pk, "silver", "gold")]
    assert_faithful(result, 3)


def test_a_first_purchase_offer_applies_to_the_first_sale_only(shop):
    f = member(shop, "13800138006")
    sell(shop, f, [("DISH", "dishes", 20000)], "s1")
    sell(shop, f, [("DISH", "dishes", 30000)], "s2")
    welcome = {
        "code": "welcome",
        "name": "首单八折",
        "kind": "automatic",
        "benefit": {"type": "percent", "value": 20},
        "condition": {"first_purchase": True},
    }
    result = run(shop, draft(shop, promotions=[welcome]))
    assert result.current.figures["discount"] == 0
    assert result.draft.figures["by_promotion"] == {"welcome": 4000}
    assert result.as_dict()["diff"]["revenue"] == -4000
    assert result.as_dict()["diff"]["points_earned"] == -40
    assert_faithful(result, 2)
