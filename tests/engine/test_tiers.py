"""The pure tier rules (patron.engine.tiers): window, upgrade, keep/grace, progress, order."""

import datetime as dt
from zoneinfo import ZoneInfo

from patron.engine import tiers

SH = ZoneInfo("Asia/Shanghai")
NORMAL = tiers.TierRule("normal", 0)
SILVER = tiers.TierRule("silver", 1, {"spend_12m": 100000}, {"spend_12m": 50000}, 30)
GOLD = tiers.TierRule("gold", 2, {"spend_12m": 500000, "single_topup": 100000}, {}, 30)
RULES = [GOLD, NORMAL, SILVER]
NOW = dt.datetime(2027, 6, 15, 12, tzinfo=SH)


def test_the_window_starts_at_local_midnight_of_the_day_after_a_year_before():
    assert tiers.window_start(NOW, SH) == dt.datetime(2026, 6, 16, tzinfo=SH)
    # 00:30 Shanghai is still the previous day in UTC: the local date decides.
    late = dt.datetime(2027, 6, 14, 16, 30, tzinfo=dt.UTC)
    assert tiers.window_start(late, SH) == dt.datetime(2026, 6, 16, tzinfo=SH)
    leap = dt.datetime(2028, 2, 29, 9, tzinfo=SH)
    assert tiers.window_start(leap, SH) == dt.datetime(2027, 3, 1, tzinfo=SH)


def test_upgrade_at_exactly_the_threshold_and_not_one_fen_below():
    assert tiers.upgrade(RULES, 0, {"spend_12m": 99999}) is None
    rule, met = tiers.upgrade(RULES, 0, {"spend_12m": 100000})
    assert (rule.code, met) == ("silver", {"spend_12m": 100000})


def test_any_one_condition_upgrades_to_the_highest_tier_reached():
    rule, met = tiers.upgrade(RULES, 0, {"spend_12m": 20000, "single_topup": 100000})
    assert (rule.code, met) == ("gold", {"single_topup": 100000})
    assert tiers.upgrade(RULES, 2, {"spend_12m": 900000}) is None


def review(current, facts, below_since=None, floor=0, as_of=NOW):
    return tiers.review(
        RULES, current, facts, below_since=below_since, floor_rank=floor, as_of=as_of
    )


def test_below_keep_starts_grace_then_drops_one_rank_after_grace_days():
    assert review(SILVER, {"spend_12m": 49999}).action == "start_grace"
    since = NOW - dt.timedelta(days=29)
    assert review(SILVER, {"spend_12m": 0}, since).action == "none"
    dropped = review(SILVER, {"spend_12m": 0}, NOW - dt.timedelta(days=30))
    assert (dropped.action, dropped.tier.code) == ("downgrade", "normal")


def test_never_two_ranks_in_one_review():
    gold = tiers.TierRule("gold", 2, {"spend_12m": 500000}, {"spend_12m": 300000}, 10)
    rules = [NORMAL, SILVER, gold]
    decision = tiers.review(
        rules, gold, {}, below_since=NOW - dt.timedelta(days=400), floor_rank=0, as_of=NOW
    )
    assert (decision.action, decision.tier.code) == ("downgrade", "silver")


def test_back_above_clears_grace_and_no_keep_when_never_downgrades():
    assert review(SILVER, {"spend_12m": 50000}, NOW - dt.timedelta(days=99)).action == (
        "clear_grace"
    )
    assert review(GOLD, {}, NOW - dt.timedelta(days=999)).action == "clear_grace"
    assert review(GOLD, {}).action == "none"


def test_a_paid_tier_is_a_floor():
    assert review(SILVER, {}, NOW - dt.timedelta(days=99), floor=1).action == "clear_grace"


def test_progress_names_what_is_missing():
    assert tiers.next_rule(RULES, 0) == SILVER
    assert tiers.missing(SILVER, {"spend_12m": 68000}) == {"spend_12m": 32000}
    assert tiers.missing(GOLD, {"spend_12m": 1, "single_topup": 5000}) == {
        "spend_12m": 499999,
        "single_topup": 100000,
    }
    assert tiers.next_rule(RULES, 2) is None


def test_could_reach_skips_members_far_below():
    assert not tiers.could_reach(RULES, 0, {"spend_12m": 99999, "single_topup": 0})
    assert tiers.could_reach(RULES, 0, {"spend_12m": 100000, "single_topup": 0})


def test_rule_problems():
    bad = [
        tiers.TierRule("normal", 0, {"spend_12m": 1}),
        tiers.TierRule("silver", 1, {"spend_12m": 100000}, {"spend_12m": 200000}),
        tiers.TierRule("gold", 2, {"spend_12m": 100000}),
    ]
    found = tiers.rule_problems(bad)
    assert (0, "rank0", "upgrade_when", 0) in found
    assert (1, "keep_when", "spend_12m", 1) in found
    assert (2, "upgrade_when", "spend_12m", 1) in found
    assert tiers.rule_problems(RULES) == []
