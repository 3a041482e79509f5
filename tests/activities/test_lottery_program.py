"""The `lotteries` program section: checked with each error's path, applied, exported back."""

from __future__ import annotations

import copy

import pytest

from patron.activities.models import Lottery, LotteryOdds
from patron.core.errors import ValidationFailed
from patron.program.services import apply_program, dump_yaml, export_program, parse_document
from tests.activities.lottery_support import COUPONS, WHEEL


def program(**changes) -> dict:
    wheel = copy.deepcopy(WHEEL) | changes
    return {"coupon_templates": COUPONS, "lotteries": [wheel]}


def errors_of(system, document) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as refused:
        apply_program(system, document)
    return {error.field: str(error.message) for error in refused.value.errors}


def test_a_lottery_is_applied_and_exported_back(system):
    changes = apply_program(system, program())
    assert [str(c) for c in changes if c.section == "lotteries"] == ["+ lotteries wheel 幸运转盘"]
    lottery = Lottery.objects.get(merchant=system.merchant, code="wheel")
    assert (lottery.budget, lottery.cost_points, lottery.daily_limit) == (50000, 100, 3)
    assert LotteryOdds.objects.get(lottery=lottery).shares == [
        ["p50", 100_000],
        ["c20", 50_000],
        ["none", 850_000],
    ]
    exported = export_program(system)["lotteries"]
    assert exported == [WHEEL]
    # The export applied again (as YAML) changes nothing: a round trip.
    again = parse_document(dump_yaml({"coupon_templates": COUPONS, "lotteries": exported}))
    assert apply_program(system, again) == []


def test_changing_the_odds_publishes_a_new_version(system):
    apply_program(system, program())
    prizes = copy.deepcopy(WHEEL["prizes"])
    prizes[0]["odds"], prizes[2]["odds"] = 12.5, 82.5
    changes = apply_program(system, program(prizes=prizes))
    assert [c.op for c in changes if c.section == "lotteries"] == ["change"]
    lottery = Lottery.objects.get(code="wheel")
    assert lottery.odds_version == 2
    assert LotteryOdds.objects.filter(lottery=lottery).count() == 2
    assert export_program(system)["lotteries"][0]["prizes"][0]["odds"] == 12.5


def test_a_lottery_left_out_is_ended(system):
    apply_program(system, program())
    changes = apply_program(system, {"lotteries": []})
    assert [(c.op, c.key) for c in changes] == [("end", "wheel")]
    assert not Lottery.objects.get(code="wheel").is_active
    assert export_program(system)["lotteries"] == []


def test_odds_must_add_up_to_100(system):
    prizes = copy.deepcopy(WHEEL["prizes"])
    prizes[2]["odds"] = 80
    errors = errors_of(system, program(prizes=prizes))
    assert list(errors) == ["lotteries[0].prizes"]
    assert "95" in errors["lotteries[0].prizes"]
    assert not Lottery.objects.exists()


def test_a_lottery_without_a_budget_is_refused(system):
    wheel = copy.deepcopy(WHEEL)
    del wheel["budget"]
    assert "lotteries[0].budget" in errors_of(system, {"lotteries": [wheel]})
    assert "lotteries[0].budget" in errors_of(system, program(budget=0))


def test_an_unknown_coupon_template_is_refused_with_its_path(system):
    errors = errors_of(system, {"lotteries": [WHEEL]})
    assert list(errors) == ["lotteries[0].prizes[1].coupon"]
    assert not Lottery.objects.exists()


def test_negative_values_are_refused_with_their_paths(system):
    prizes = copy.deepcopy(WHEEL["prizes"])
    prizes[0]["points"] = -5
    prizes[1]["value"] = -1
    prizes[1]["stock"] = -3
    errors = errors_of(system, program(prizes=prizes, cost_points=-1))
    assert {
        "lotteries[0].cost_points",
        "lotteries[0].prizes[0].points",
        "lotteries[0].prizes[1].value",
        "lotteries[0].prizes[1].stock",
    } <= set(errors)


def test_prize_shapes_are_checked(system):
    prizes = [
        {"code": "p", "kind": "points", "odds": 50},
        {"code": "p", "kind": "none", "value": 100, "odds": 50.00001},
    ]
    errors = errors_of(system, program(prizes=prizes))
    assert "lotteries[0].prizes[0].points" in errors
    assert "lotteries[0].prizes[1].code" in errors
    assert "lotteries[0].prizes[1].value" in errors
    assert "lotteries[0].prizes[1].odds" in errors


def test_decimal_odds_are_taken(system):
    prizes = [
        {"code": "rare", "kind": "points", "points": 1, "value": 1, "odds": 0.0125},
        {"code": "none", "kind": "none", "odds": 99.9875},
    ]
    apply_program(system, program(prizes=prizes))
    assert export_program(system)["lotteries"][0]["prizes"][0]["odds"] == 0.0125
