"""Hand-worked baskets for `quote` (issue 5, API.md §4 and the lead's engine notes).

Every case states its arithmetic; the expected figures were worked by hand from the rules,
never copied from the engine. Money in fen. Unless a case says otherwise: sold at store S1 on
Tuesday 2 March 2027 12:00 Shanghai time, tiers normal (rank 0) / silver (rooms 88) / gold
(rooms 80, dishes 90, points x1.5), 1 point per 100 yuan, 100 points = 1 yuan for at most
50 % of what is left. Every case is also run through the invariants of builders.py.
"""

from __future__ import annotations

import datetime as dt

import pytest

from patron.engine.points import EarnRule
from patron.engine.pricing import Coupon, MemberContext, Quote, RedeemRule, quote
from tests.engine.builders import (
    NOW,
    WALK_IN,
    basket,
    benefit,
    check_invariants,
    code_promo,
    coupon,
    line,
    member,
    program,
    promo,
)

UTC = dt.UTC
SECOND = dt.timedelta(seconds=1)
DAY = dt.timedelta(days=1)

ROOM1 = line("ROOM-STD", "rooms", 1, 32000)
ROOM2 = line("ROOM-STD", "rooms", 2, 32000)
DISH3 = line("DISH", "dishes", 3, 2500)
TEA2 = line("TEA", "drinks", 2, 1500)
SHIP = line("SHIP", "shipping", 1, 1000)

P10 = promo("P10", benefit("percent", 10), priority=10)  # 10 % off the whole order
F1000 = promo("F1000", benefit("fixed", 1000), priority=20)
SPRING = benefit("percent", 10)
B1G1 = promo("B1G1", benefit("free_items", buy=1, get=1, categories={"drinks"}))
CH50 = promo("CH50", benefit("cheapest_percent", 50, categories={"drinks"}))
MIXED_DRINKS = basket(
    ROOM1, TEA2, line("COFFEE", "drinks", 1, 2000), line("JUICE", "drinks", 1, 1200)
)


def dishes(*prices: int):
    """One unit each of dishes A, B, C... at the given prices."""
    return [line(chr(ord("A") + i), "dishes", 1, price) for i, price in enumerate(prices)]


def case(name, basket_, expect, *, program_=None, member_=WALK_IN, now=NOW):
    return pytest.param(basket_, member_, program_ or program(), now, expect, id=name)


CASES = [
    # --- member prices -----------------------------------------------------------------------
    # Walk-in: 2*32000 + 3*2500 = 71500, nothing off, no points without a member.
    case(
        "walk_in_pays_list_price",
        basket(ROOM2, DISH3),
        {"subtotal": 71500, "discount": 0, "total": 71500, "points_earned": 0, "cash_due": 71500},
    ),
    # A walk-in pays unit_price even when the POS sends a member price: 32000.
    case(
        "walk_in_ignores_member_price",
        basket(line("ROOM-STD", "rooms", 1, 32000, member_price=28000)),
        {"member_discount": 0, "total": 32000, "lines": [32000]},
    ),
    # Gold: rooms 32000*80% = 25600 (x2 = 51200), dishes 2500*90% = 2250 (x3 = 6750), drinks
    # no tier rate 1500 (x2 = 3000). Total 60950; member discount 74500 - 60950 = 13550.
    # Points x1.5: floor(60950 * 150 / (100 * 10000)) = floor(9.1425) = 9 (6 at x1).
    case(
        "gold_tier_discount_per_category_and_1_5x_points",
        basket(ROOM2, DISH3, TEA2),
        {
            "subtotal": 74500,
            "member_discount": 13550,
            "discount": 13550,
            "total": 60950,
            "member_prices": [25600, 2250, 1500],
            "lines": [51200, 6750, 3000],
            "points_earned": 9,
            "saved": 13550,
        },
        member_=member("gold"),
    ),
    # Silver: rooms 32000*88% = 28160; 1 point per whole 100 yuan: floor(28160/10000) = 2.
    case(
        "silver_tier_rooms_88",
        basket(ROOM1),
        {"member_discount": 3840, "total": 28160, "points_earned": 2},
        member_=member("silver"),
    ),
    # A member without a tier is on the lowest rank (normal, rank 0, listed last): no discount.
    case(
        "member_without_tier_gets_lowest_rank",
        basket(ROOM1),
        {"member_discount": 0, "total": 32000, "points_earned": 3},
        member_=member(None),
    ),
    # Gold, half up per unit: 1995*90% = 1795.5 -> 1796; 1999*80% = 1599.2 -> 1599.
    # Member discount (1995-1796) + (1999-1599) = 199 + 400 = 599; total 3395.
    case(
        "tier_price_rounds_half_up_per_unit",
        basket(line("SOUP", "dishes", 1, 1995), line("ROOM-B", "rooms", 1, 1999)),
        {"member_prices": [1796, 1599], "member_discount": 599, "total": 3395},
        member_=member("gold"),
    ),
    # Gold with POS member prices: rooms min(24000, 25600) = 24000 (x2 = 48000); dishes
    # min(2400, 2250) = 2250 (x3 = 6750); drinks min(1200, 1500) = 1200.
    # Total 55950; member discount 16000 + 750 + 300 = 17050.
    case(
        "member_price_vs_tier_price_lower_wins",
        basket(
            line("ROOM-STD", "rooms", 2, 32000, member_price=24000),
            line("DISH", "dishes", 3, 2500, member_price=2400),
            line("TEA", "drinks", 1, 1500, member_price=1200),
        ),
        {"member_prices": [24000, 2250, 1200], "member_discount": 17050, "total": 55950},
        member_=member("gold"),
    ),
    # --- percent / fixed / thresholds --------------------------------------------------------
    # 10 % of 32000 = 3200.
    case(
        "percent_whole_order",
        basket(ROOM1),
        {"applied": [("P10", 3200)], "discount": 3200, "total": 28800, "lines": [28800]},
        program_=program(P10),
    ),
    # 10 % of 1005 = 100.5 -> 101 (half up); 1005 - 101 = 904.
    case(
        "percent_rounds_half_up",
        basket(line("X", "dishes", 1, 1005)),
        {"applied": [("P10", 101)], "total": 904},
        program_=program(P10),
    ),
    # 20 % of 71500 = 14300, capped at 5000 -> total 66500.
    case(
        "percent_capped_by_max_discount",
        basket(ROOM2, DISH3),
        {"applied": [("P20", 5000)], "total": 66500},
        program_=program(promo("P20", benefit("percent", 20, max_discount=5000))),
    ),
    # 满300减50: 32000 >= 30000 -> 5000 off -> 27000.
    case(
        "fixed_threshold_manjian",
        basket(ROOM1),
        {"applied": [("MJ50", 5000)], "total": 27000},
        program_=program(promo("MJ50", benefit("fixed", 5000), min_amount=30000)),
    ),
    # Fixed 5000 limited to drinks (2*1500 = 3000): min(5000, 3000) = 3000; the tea line
    # goes to 0, never below.
    case(
        "fixed_limited_to_its_scope_never_below_zero",
        basket(ROOM1, TEA2),
        {"applied": [("DRINKS", 3000)], "total": 32000, "lines": [32000, 0]},
        program_=program(promo("DRINKS", benefit("fixed", 5000, categories={"drinks"}))),
    ),
    # 10 % at priority 10: 32000 -> 28800; 满300减50 at priority 20 sees 28800 < 30000.
    case(
        "threshold_falls_away_after_earlier_percent",
        basket(ROOM1, codes=("MJ50",)),
        {
            "applied": [("P10", 3200)],
            "rejected": [("MJ50", "condition_not_met")],
            "total": 28800,
        },
        program_=program(
            P10, code_promo("MJ50", benefit("fixed", 5000), min_amount=30000, priority=20)
        ),
    ),
    # Same two, 满减 first (priority 5): 32000 -> 27000; then 10 % of 27000 = 2700 -> 24300.
    case(
        "threshold_first_then_percent_on_what_is_left",
        basket(ROOM1, codes=("MJ50",)),
        {"applied": [("MJ50", 5000), ("P10", 2700)], "rejected": [], "total": 24300},
        program_=program(
            P10, code_promo("MJ50", benefit("fixed", 5000), min_amount=30000, priority=5)
        ),
    ),
    # Equal priority goes by code: A-FIX (needs 31500) sees 32000 -> 31000, then B-PCT takes
    # 10 % of 31000 = 3100 -> 27900. (B first would leave 28800 and A would not apply.)
    case(
        "equal_priority_applies_in_code_order",
        basket(ROOM1),
        {"applied": [("A-FIX", 1000), ("B-PCT", 3100)], "total": 27900},
        program_=program(
            promo("B-PCT", benefit("percent", 10), priority=10),
            promo("A-FIX", benefit("fixed", 1000), priority=10, min_amount=31500),
        ),
    ),
    # Threshold on the scope, not the order: rooms are 32000 < 50000 although the order is
    # 32000 + 12*2500 = 62000.
    case(
        "threshold_checked_on_scope_not_order",
        basket(ROOM1, line("DISH", "dishes", 12, 2500), codes=("ROOMS50",)),
        {"applied": [], "rejected": [("ROOMS50", "condition_not_met")], "total": 62000},
        program_=program(
            code_promo("ROOMS50", benefit("percent", 10, categories={"rooms"}), min_amount=50000)
        ),
    ),
    # min_quantity 3 on the drinks scope: 2 teas (the room makes 3 units in the order).
    case(
        "min_quantity_on_scope_not_met",
        basket(ROOM1, TEA2, codes=("TEA3",)),
        {"rejected": [("TEA3", "condition_not_met")], "total": 35000},
        program_=program(
            code_promo("TEA3", benefit("percent", 20, categories={"drinks"}), min_quantity=3)
        ),
    ),
    # 3 teas: 20 % of 4500 = 900 off the drinks; 32000 + 4500 - 900 = 35600.
    case(
        "min_quantity_on_scope_met",
        basket(ROOM1, line("TEA", "drinks", 3, 1500), codes=("TEA3",)),
        {"applied": [("TEA3", 900)], "total": 35600, "lines": [32000, 3600]},
        program_=program(
            code_promo("TEA3", benefit("percent", 20, categories={"drinks"}), min_quantity=3)
        ),
    ),
    # condition.skus: the basket must contain a room; dishes only -> not met.
    case(
        "condition_sku_missing",
        basket(DISH3, codes=("WITHROOM",)),
        {"rejected": [("WITHROOM", "condition_not_met")], "total": 7500},
        program_=program(
            code_promo("WITHROOM", benefit("percent", 10, categories={"dishes"}), skus={"ROOM-STD"})
        ),
    ),
    # With the room: 10 % of the dishes 7500 = 750; 39500 - 750 = 38750.
    case(
        "condition_sku_present_benefit_on_other_lines",
        basket(ROOM1, DISH3, codes=("WITHROOM",)),
        {"applied": [("WITHROOM", 750)], "total": 38750, "lines": [32000, 6750]},
        program_=program(
            code_promo("WITHROOM", benefit("percent", 10, categories={"dishes"}), skus={"ROOM-STD"})
        ),
    ),
    # condition.categories: no drinks in the basket.
    case(
        "condition_category_missing",
        basket(ROOM1, codes=("DRINKERS",)),
        {"rejected": [("DRINKERS", "condition_not_met")], "total": 32000},
        program_=program(code_promo("DRINKERS", benefit("fixed", 500), categories={"drinks"})),
    ),
    # condition.stores: S2 only, sold at S1.
    case(
        "condition_store",
        basket(ROOM1, codes=("S2ONLY",), store="S1"),
        {"rejected": [("S2ONLY", "condition_not_met")], "total": 32000},
        program_=program(code_promo("S2ONLY", benefit("fixed", 500), stores={"S2"})),
    ),
    # condition.tiers: gold only, a silver member (28160 after the tier price).
    case(
        "condition_tier_not_met",
        basket(ROOM1, codes=("GOLDONLY",)),
        {"rejected": [("GOLDONLY", "condition_not_met")], "total": 28160},
        program_=program(code_promo("GOLDONLY", benefit("fixed", 500), tiers={"gold"})),
        member_=member("silver"),
    ),
    # Gold: 25600 - 500 = 25100.
    case(
        "condition_tier_met",
        basket(ROOM1, codes=("GOLDONLY",)),
        {"applied": [("GOLDONLY", 500)], "total": 25100},
        program_=program(code_promo("GOLDONLY", benefit("fixed", 500), tiers={"gold"})),
        member_=member("gold"),
    ),
    # --- the other benefit types -------------------------------------------------------------
    # fixed_price 9900 per room: 2*32000 - 2*9900 = 44200 off; dishes untouched.
    # Total 19800 + 7500 = 27300.
    case(
        "fixed_price_per_unit",
        basket(ROOM2, DISH3),
        {"applied": [("FP99", 44200)], "total": 27300, "lines": [19800, 7500]},
        program_=program(promo("FP99", benefit("fixed_price", 9900, skus={"ROOM-STD"}))),
    ),
    # fixed_price above the price: max(0, 64000 - 2*40000) = 0 -> no_discount.
    case(
        "fixed_price_above_price_gives_no_discount",
        basket(ROOM2, codes=("FP400",)),
        {"applied": [], "rejected": [("FP400", "no_discount")], "total": 64000},
        program_=program(code_promo("FP400", benefit("fixed_price", 40000, skus={"ROOM-STD"}))),
    ),
    # Buy 2 get 1 on 7 teas: 7 // 3 = 2 groups -> 2 free teas = 3000; 10500 - 3000 = 7500.
    case(
        "free_items_buy2_get1",
        basket(line("TEA", "drinks", 7, 1500)),
        {"applied": [("B2G1", 3000)], "total": 7500},
        program_=program(promo("B2G1", benefit("free_items", buy=2, get=1, categories={"drinks"}))),
    ),
    # Buy 1 get 1 on drinks 2000, 1500, 1500, 1200: 4 // 2 = 2 groups, 2 cheapest free:
    # 1200 + 1500 = 2700 (the same under "cheapest of each group of two": 1500 + 1200).
    # 38200 - 2700 = 35500. (Which lines carry the 2700: test_free_items_spread_over_scope.)
    case(
        "free_items_mixed_prices",
        MIXED_DRINKS,
        {"applied": [("B1G1", 2700)], "total": 35500, "lines": [32000, None, None, None]},
        program_=program(B1G1),
    ),
    # A free-night coupon (free_items quantity 1 on ROOM-STD): one of 2 rooms free, 32000.
    case(
        "free_items_quantity_coupon",
        basket(ROOM2, codes=("RN-0001",)),
        {"applied": [("RN-0001", 32000)], "rejected": [], "total": 32000},
        member_=member(
            coupons=(coupon("RN-0001", benefit("free_items", quantity=1, skus={"ROOM-STD"})),)
        ),
    ),
    # The same coupon with max_discount 20000: min(32000, 20000) -> 64000 - 20000 = 44000.
    case(
        "free_items_capped_by_max_discount",
        basket(ROOM2, codes=("RN-0001",)),
        {"applied": [("RN-0001", 20000)], "total": 44000},
        member_=member(
            coupons=(
                coupon(
                    "RN-0001",
                    benefit("free_items", quantity=1, skus={"ROOM-STD"}, max_discount=20000),
                ),
            )
        ),
    ),
    # cheapest_percent 50 on drinks: the cheapest unit is the 1200 juice -> 600 off; the
    # room is outside the scope. 32000 + 3000 + 1200 - 600 = 35600.
    case(
        "cheapest_percent",
        basket(ROOM1, TEA2, line("JUICE", "drinks", 1, 1200)),
        {"applied": [("CH50", 600)], "total": 35600, "lines": [32000, None, None]},
        program_=program(CH50),
    ),
    # 50 % of the cheapest unit 1555 = 777.5 -> 778; 3555 - 778 = 2777.
    case(
        "cheapest_percent_rounds_half_up",
        basket(line("CAKE", "dishes", 1, 1555), line("PIE", "dishes", 1, 2000)),
        {"applied": [("CH50", 778)], "total": 2777},
        program_=program(promo("CH50", benefit("cheapest_percent", 50))),
    ),
    # Gift over 100 yuan: 32000 >= 10000 -> a GIFT-MUG line at 0, amount 0, total unchanged.
    case(
        "gift_adds_a_zero_line",
        basket(ROOM1),
        {
            "applied": [("MUG", 0)],
            "total": 32000,
            "lines": [32000, 0],
            "gifts": [("GIFT-MUG", 1)],
        },
        program_=program(
            promo("MUG", benefit("gift", sku="GIFT-MUG", quantity=1), min_amount=10000)
        ),
    ),
    # Below the gift's threshold (9000 < 10000): no gift line.
    case(
        "gift_below_threshold_absent",
        basket(line("ROOM-B", "rooms", 1, 9000)),
        {"applied": [], "lines": [9000], "gifts": []},
        program_=program(
            promo("MUG", benefit("gift", sku="GIFT-MUG", quantity=1), min_amount=10000)
        ),
    ),
    # Gold 57950 (51200 + 6750) with a 2x promotion on top of the tier's 1.5x:
    # floor(57950 * 150 * 200 / 100 / (100 * 10000)) = floor(17.385) = 17; no money off.
    case(
        "points_multiplier_on_top_of_tier",
        basket(ROOM2, DISH3),
        {"applied": [("DOUBLE", 0)], "total": 57950, "discount": 13550, "points_earned": 17},
        program_=program(promo("DOUBLE", benefit("points_multiplier", 200))),
        member_=member("gold"),
    ),
    # 3x on dishes only: 9000*100 + 1000*300 = 1,200,000 -> 1 point (3 if it were 3x on all).
    case(
        "points_multiplier_scoped_to_skus",
        basket(line("ROOM-B", "rooms", 1, 9000), line("DISH", "dishes", 1, 1000)),
        {"applied": [("DISH3X", 0)], "points_earned": 1},
        program_=program(promo("DISH3X", benefit("points_multiplier", 300, skus={"DISH"}))),
        member_=member(),
    ),
    # Two multipliers compose: 100 % * 200 % * 150 % = 300 % of 10000 -> 3 points.
    case(
        "two_points_multipliers_multiply",
        basket(line("ROOM-B", "rooms", 1, 10000)),
        {"applied": [("X2", 0), ("X15", 0)], "points_earned": 3},
        program_=program(
            promo("X2", benefit("points_multiplier", 200)),
            promo("X15", benefit("points_multiplier", 150)),
        ),
        member_=member(),
    ),
    # free_shipping: the 1000 shipping line is free; 33000 - 1000 = 32000.
    case(
        "free_shipping",
        basket(ROOM1, SHIP),
        {"applied": [("FS", 1000)], "total": 32000, "lines": [32000, 0]},
        program_=program(promo("FS", benefit("free_shipping"))),
    ),
    # free_shipping with its own category: only the 800 delivery line; 33800 - 800 = 33000.
    case(
        "free_shipping_on_given_categories",
        basket(ROOM1, SHIP, line("DLV", "delivery", 1, 800)),
        {"applied": [("FS", 800)], "total": 33000, "lines": [32000, 1000, 0]},
        program_=program(promo("FS", benefit("free_shipping", categories={"delivery"}))),
    ),
    # --- stacking and exclusivity ------------------------------------------------------------
    # VIP30 alone: 30 % of 32000 = 9600. Stackables in sequence: P10 3200 (-> 28800), F1000
    # 1000, STACK5 500 = 4700. 9600 > 4700 -> VIP30 alone; the stackable code is refused.
    case(
        "exclusive_beats_stackables",
        basket(ROOM1, codes=("VIP30", "STACK5")),
        {
            "applied": [("VIP30", 9600)],
            "rejected": [("STACK5", "not_combinable")],
            "total": 22400,
        },
        program_=program(
            P10,
            F1000,
            code_promo("STACK5", benefit("fixed", 500), priority=30),
            code_promo("VIP30", benefit("percent", 30), stacking="exclusive", priority=50),
        ),
    ),
    # EX15 alone: 4800. Stackables: P10 3200 + F2000 2000 = 5200 > 4800 -> they apply.
    case(
        "stackables_beat_exclusive",
        basket(ROOM1, codes=("EX15",)),
        {
            "applied": [("P10", 3200), ("F2000", 2000)],
            "rejected": [("EX15", "not_combinable")],
            "total": 26800,
        },
        program_=program(
            P10,
            promo("F2000", benefit("fixed", 2000), priority=20),
            code_promo("EX15", benefit("percent", 15), stacking="exclusive"),
        ),
    ),
    # Tie: EX4200 gives 4200, the stackables 3200 + 1000 = 4200; not strictly greater.
    case(
        "exclusive_tie_goes_to_stackables",
        basket(ROOM1, codes=("EX4200",)),
        {
            "applied": [("P10", 3200), ("F1000", 1000)],
            "rejected": [("EX4200", "not_combinable")],
            "total": 27800,
        },
        program_=program(
            P10, F1000, code_promo("EX4200", benefit("fixed", 4200), stacking="exclusive")
        ),
    ),
    # Two exclusives, no stackables: EXA 20 % = 6400 beats EXB 5000 and applies alone.
    case(
        "largest_exclusive_is_the_candidate",
        basket(ROOM1, codes=("EXB", "EXA")),
        {
            "applied": [("EXA", 6400)],
            "rejected": [("EXB", "not_combinable")],
            "total": 25600,
        },
        program_=program(
            code_promo("EXA", benefit("percent", 20), stacking="exclusive", priority=90),
            code_promo("EXB", benefit("fixed", 5000), stacking="exclusive", priority=10),
        ),
    ),
    # Gold: 32000 -> 25600 first. EX30 30 % of 25600 = 7680 > P10's 2560 -> 17920.
    # discount = 6400 member + 7680.
    case(
        "exclusive_evaluated_after_member_prices",
        basket(ROOM1, codes=("EX30",)),
        {
            "applied": [("EX30", 7680)],
            "member_discount": 6400,
            "discount": 14080,
            "total": 17920,
        },
        program_=program(P10, code_promo("EX30", benefit("percent", 30), stacking="exclusive")),
        member_=member("gold"),
    ),
    # An exclusive is evaluated alone: its threshold sees 32000 >= 30000 (not 28800 after
    # P10), and 6000 > 3200 -> 26000.
    case(
        "exclusive_threshold_evaluated_alone",
        basket(ROOM1, codes=("EXMJ",)),
        {"applied": [("EXMJ", 6000)], "total": 26000},
        program_=program(
            P10,
            code_promo(
                "EXMJ",
                benefit("fixed", 6000),
                stacking="exclusive",
                priority=50,
                min_amount=30000,
            ),
        ),
    ),
    # --- members only, member day, windows, first purchase -----------------------------------
    # Walk-in: the members-only code is refused, the members-only automatic one is absent.
    case(
        "members_only_for_walk_in",
        basket(ROOM1, codes=("MEMBER10",)),
        {"applied": [], "rejected": [("MEMBER10", "members_only")], "total": 32000},
        program_=program(
            code_promo("MEMBER10", benefit("percent", 10), members_only=True),
            promo("MDAY", benefit("percent", 5), members_only=True, priority=10),
        ),
    ),
    # A member gets both: MDAY 5 % of 32000 = 1600 -> 30400; MEMBER10 10 % = 3040 -> 27360;
    # floor(27360 / 10000) = 2 points.
    case(
        "members_only_for_member",
        basket(ROOM1, codes=("MEMBER10",)),
        {
            "applied": [("MDAY", 1600), ("MEMBER10", 3040)],
            "total": 27360,
            "points_earned": 2,
        },
        program_=program(
            code_promo("MEMBER10", benefit("percent", 10), members_only=True),
            promo("MDAY", benefit("percent", 5), members_only=True, priority=10),
        ),
        member_=member(),
    ),
    # Monday 17:00 UTC is Tuesday 01:00 in Shanghai: the Tuesday member day applies (3200).
    case(
        "member_day_tuesday_in_shanghai_monday_in_utc",
        basket(ROOM1),
        {"applied": [("TUESDAY", 3200)], "total": 28800},
        program_=program(promo("TUESDAY", benefit("percent", 10), members_only=True, weekdays={2})),
        member_=member(),
        now=dt.datetime(2027, 3, 1, 17, 0, tzinfo=UTC),
    ),
    # Tuesday 16:30 UTC is Wednesday 00:30 in Shanghai: no member day.
    case(
        "member_day_wednesday_in_shanghai_tuesday_in_utc",
        basket(ROOM1),
        {"applied": [], "total": 32000},
        program_=program(promo("TUESDAY", benefit("percent", 10), members_only=True, weekdays={2})),
        member_=member(),
        now=dt.datetime(2027, 3, 2, 16, 30, tzinfo=UTC),
    ),
    # starts_at is inclusive: a flash sale starting exactly now applies (20 % = 6400).
    case(
        "window_starts_at_inclusive",
        basket(ROOM1),
        {"applied": [("FLASH", 6400)], "total": 25600},
        program_=program(promo("FLASH", benefit("percent", 20), starts_at=NOW)),
    ),
    # ends_at is exclusive: ending exactly now, it no longer applies.
    case(
        "window_ends_at_exclusive",
        basket(ROOM1, codes=("FLASH",)),
        {"applied": [], "rejected": [("FLASH", "condition_not_met")], "total": 32000},
        program_=program(
            code_promo("FLASH", benefit("percent", 20), starts_at=NOW - DAY, ends_at=NOW)
        ),
    ),
    # Starting one second from now: not yet.
    case(
        "window_not_started",
        basket(ROOM1, codes=("FLASH",)),
        {"rejected": [("FLASH", "condition_not_met")], "total": 32000},
        program_=program(code_promo("FLASH", benefit("percent", 20), starts_at=NOW + SECOND)),
    ),
    # First purchase: 2000 off -> 30000.
    case(
        "first_purchase_met",
        basket(ROOM1, codes=("FIRST",)),
        {"applied": [("FIRST", 2000)], "total": 30000},
        program_=program(code_promo("FIRST", benefit("fixed", 2000), first_purchase=True)),
        member_=member(first_purchase=True),
    ),
    case(
        "first_purchase_not_met_for_returning_member",
        basket(ROOM1, codes=("FIRST",)),
        {"rejected": [("FIRST", "condition_not_met")], "total": 32000},
        program_=program(code_promo("FIRST", benefit("fixed", 2000), first_purchase=True)),
        member_=member(first_purchase=False),
    ),
    # --- coupons -----------------------------------------------------------------------------
    # Valid coupon: 10 % of 32000 = 3200, named by the coupon's code.
    case(
        "coupon_applies",
        basket(ROOM1, codes=("SPRING-0001",)),
        {"applied": [("SPRING-0001", 3200)], "rejected": [], "total": 28800},
        member_=member(
            coupons=(
                coupon("SPRING-0001", SPRING, valid_from=NOW - DAY, valid_until=NOW + 30 * DAY),
            )
        ),
    ),
    # valid_from is inclusive.
    case(
        "coupon_valid_from_inclusive",
        basket(ROOM1, codes=("SPRING-0001",)),
        {"applied": [("SPRING-0001", 3200)], "total": 28800},
        member_=member(coupons=(coupon("SPRING-0001", SPRING, valid_from=NOW),)),
    ),
    case(
        "coupon_not_yet_valid",
        basket(ROOM1, codes=("SPRING-0001",)),
        {"applied": [], "rejected": [("SPRING-0001", "coupon_not_yet_valid")], "total": 32000},
        member_=member(coupons=(coupon("SPRING-0001", SPRING, valid_from=NOW + SECOND),)),
    ),
    # valid_until is exclusive: a coupon valid until now has expired.
    case(
        "coupon_expired",
        basket(ROOM1, codes=("SPRING-0001",)),
        {"applied": [], "rejected": [("SPRING-0001", "coupon_expired")], "total": 32000},
        member_=member(
            coupons=(coupon("SPRING-0001", SPRING, valid_from=NOW - DAY, valid_until=NOW),)
        ),
    ),
    case(
        "coupon_used",
        basket(ROOM1, codes=("SPRING-0001",)),
        {"applied": [], "rejected": [("SPRING-0001", "coupon_used")], "total": 32000},
        member_=member(coupons=(coupon("SPRING-0001", SPRING, used=True),)),
    ),
    case(
        "coupon_other_member",
        basket(ROOM1, codes=("SPRING-0001",)),
        {"applied": [], "rejected": [("SPRING-0001", "coupon_other_member")], "total": 32000},
        member_=member(coupons=(coupon("SPRING-0001", SPRING, member_id="m2"),)),
    ),
    # The same code twice: the first applies, the second is refused.
    case(
        "coupon_duplicate_code",
        basket(ROOM1, codes=("SPRING-0001", "SPRING-0001")),
        {
            "applied": [("SPRING-0001", 3200)],
            "rejected": [("SPRING-0001", "duplicate_code")],
            "total": 28800,
        },
        member_=member(coupons=(coupon("SPRING-0001", SPRING),)),
    ),
    # The coupon template's threshold (满500) is not met by 32000.
    case(
        "coupon_condition_not_met",
        basket(ROOM1, codes=("MJ-0001",)),
        {"rejected": [("MJ-0001", "condition_not_met")], "total": 32000},
        member_=member(coupons=(coupon("MJ-0001", benefit("fixed", 5000), min_amount=50000),)),
    ),
    # A free-shipping coupon on an order without shipping gives nothing.
    case(
        "coupon_no_discount",
        basket(ROOM1, codes=("FS-0001",)),
        {"applied": [], "rejected": [("FS-0001", "no_discount")], "total": 32000},
        member_=member(coupons=(coupon("FS-0001", benefit("free_shipping")),)),
    ),
    case(
        "unknown_code",
        basket(ROOM1, codes=("NOPE",)),
        {"applied": [], "rejected": [("NOPE", "unknown_code")], "total": 32000},
        member_=member(),
    ),
    # A coupon and a code promotion stack: P10 at 10 -> 28800; 满减 coupon (priority 100)
    # 28800 >= 20000 -> 5000 -> 23800.
    case(
        "coupon_stacks_after_promotion",
        basket(ROOM1, codes=("MJ-0002",)),
        {"applied": [("P10", 3200), ("MJ-0002", 5000)], "total": 23800},
        program_=program(P10),
        member_=member(coupons=(coupon("MJ-0002", benefit("fixed", 5000), min_amount=20000),)),
    ),
    # A coupon is stackable unless its template says otherwise: VIP30 (exclusive, 9600)
    # beats P10 3200 + the coupon's 10 % of 28800 = 2880 (6080), so the coupon is refused.
    case(
        "coupon_not_combinable_with_winning_exclusive",
        basket(ROOM1, codes=("VIP30", "SPRING-0001")),
        {
            "applied": [("VIP30", 9600)],
            "rejected": [("SPRING-0001", "not_combinable")],
            "total": 22400,
        },
        program_=program(
            P10, code_promo("VIP30", benefit("percent", 30), stacking="exclusive", priority=50)
        ),
        member_=member(coupons=(coupon("SPRING-0001", SPRING),)),
    ),
    # A bearer coupon (no holder) from a members-only template, typed by a walk-in.
    case(
        "coupon_members_only_for_walk_in",
        basket(ROOM1, codes=("CLUB-0001",)),
        {"applied": [], "rejected": [("CLUB-0001", "members_only")], "total": 32000},
        member_=MemberContext(
            coupons={"CLUB-0001": coupon("CLUB-0001", SPRING, member_id=None, members_only=True)}
        ),
    ),
    # The same bearer coupon without members_only: anyone may use it (3200 off).
    case(
        "bearer_coupon_for_walk_in",
        basket(ROOM1, codes=("CLUB-0001",)),
        {"applied": [("CLUB-0001", 3200)], "total": 28800},
        member_=MemberContext(coupons={"CLUB-0001": coupon("CLUB-0001", SPRING, member_id=None)}),
    ),
    # --- points offset, stored value, points earned ------------------------------------------
    # Share cap: floor(32000 * 50 / 100) = 16000 -> 160 units; asked 500 units.
    # 16000 points pay 16000 fen; total 16000; earned floor(16000/10000) = 1.
    case(
        "points_offset_capped_by_max_share",
        basket(ROOM1, points=50000),
        {
            "points_redeemed": 16000,
            "points_value": 16000,
            "total": 16000,
            "discount": 0,
            "saved": 16000,
            "points_earned": 1,
            "points_offsets": [16000],
        },
        member_=member(points=100000),
    ),
    # Request cap: 2550 // 100 = 25 units -> 2500 points, 2500 fen; total 29500; 2 points.
    case(
        "points_offset_capped_by_request",
        basket(ROOM1, points=2550),
        {"points_redeemed": 2500, "points_value": 2500, "total": 29500, "points_earned": 2},
        member_=member(points=100000),
    ),
    # floor(32099 * 50 / 100) = 16049 -> 160 whole yuan units -> 16000; total 16099.
    case(
        "points_offset_whole_units_only",
        basket(line("X", "dishes", 1, 32099), points=100000),
        {"points_redeemed": 16000, "points_value": 16000, "total": 16099},
        member_=member(points=100000),
    ),
    # 30 points = 1 yuan, no share cap: 100 // 30 = 3 units -> 90 points, 300 fen.
    case(
        "points_offset_odd_rule",
        basket(ROOM1, points=100),
        {"points_redeemed": 90, "points_value": 300, "total": 31700},
        program_=program(redeem=RedeemRule(points=30, value=100, max_share_percent=100)),
        member_=member(points=1000),
    ),
    # After P10 (28800): 50 % = 14400 -> 144 units; total 14400; 1 point.
    case(
        "points_offset_on_what_is_left_after_discounts",
        basket(ROOM1, points=50000),
        {"points_redeemed": 14400, "points_value": 14400, "total": 14400, "points_earned": 1},
        program_=program(P10),
        member_=member(points=100000),
    ),
    # 1000 fen of points over 3000 and 1000 left: 750 and 250 -> lines 2250, 750.
    case(
        "points_offset_spread_over_lines",
        basket(TEA2, line("JUICE", "drinks", 1, 1000), points=1000),
        {"points_value": 1000, "lines": [2250, 750], "points_offsets": [750, 250]},
        program_=program(redeem=RedeemRule(points=100, value=100, max_share_percent=100)),
        member_=member(points=1000),
    ),
    # Asking for more than the member holds is flagged (the service answers 422).
    case(
        "insufficient_points_flagged",
        basket(ROOM1, points=5000),
        {"insufficient_points": True},
        member_=member(points=1000),
    ),
    # API.md §3: asked points are first lowered to the rule's cap on this basket, then checked
    # against what is held: 8000 asked on 100 yuan, a 50 % cap and 5000 held redeem 5000.
    case(
        "points_asked_lowered_to_the_cap_before_the_balance_check",
        basket(line("SET", "dishes", 1, 10000), points=8000),
        {"points_redeemed": 5000, "points_value": 5000, "insufficient_points": False},
        program_=program(redeem=RedeemRule(points=100, value=100, max_share_percent=50)),
        member_=member(points=5000),
    ),
    # Within the cap, more than held is still short.
    case(
        "points_within_the_cap_but_more_than_held_are_insufficient",
        basket(line("SET", "dishes", 1, 10000), points=4000),
        {"insufficient_points": True, "points_redeemed": 3000},
        program_=program(redeem=RedeemRule(points=100, value=100, max_share_percent=50)),
        member_=member(points=3000),
    ),
    # No redeem rule: nothing is redeemed.
    case(
        "no_redeem_rule_redeems_nothing",
        basket(ROOM1, points=1000),
        {"points_redeemed": 0, "points_value": 0, "total": 32000},
        program_=program(redeem=None),
        member_=member(points=1000),
    ),
    # Stored value pays 10000 of 28800; cash 18800; stored value counts as paid: 2 points.
    case(
        "stored_value_partial",
        basket(ROOM1, stored_value=10000),
        {"stored_value_paid": 10000, "cash_due": 18800, "total": 28800, "points_earned": 2},
        program_=program(P10),
        member_=member(stored_value=50000),
    ),
    # Stored value offered beyond the total pays the total only.
    case(
        "stored_value_beyond_total",
        basket(ROOM1, stored_value=40000),
        {"stored_value_paid": 32000, "cash_due": 0, "points_earned": 3},
        member_=member(stored_value=50000),
    ),
    # Offering 10000 of stored value with 5000 on the card: flagged (the service refuses).
    case(
        "insufficient_stored_value_flagged",
        basket(ROOM1, stored_value=10000),
        {"insufficient_stored_value": True, "stored_value_paid": 10000},
        member_=member(stored_value=5000),
    ),
    # Shipping excluded from earning: 9500 -> 0 points (10500 would earn 1).
    case(
        "earn_excludes_categories",
        basket(line("ROOM-B", "rooms", 1, 9500), SHIP),
        {"total": 10500, "points_earned": 0},
        program_=program(earn_exclude_categories=frozenset({"shipping"})),
        member_=member(),
    ),
    case(
        "earn_counts_every_category_by_default",
        basket(line("ROOM-B", "rooms", 1, 9500), SHIP),
        {"total": 10500, "points_earned": 1},
        member_=member(),
    ),
    # 2 points per whole yuan: 32000 / 100 = 320 units * 2 = 640 points.
    case(
        "earn_rule_points_per_unit",
        basket(ROOM1),
        {"points_earned": 640},
        program_=program(earn=EarnRule(per_amount=100, points=2)),
        member_=member(),
    ),
    case(
        "no_earn_rule_earns_nothing",
        basket(ROOM1),
        {"points_earned": 0},
        program_=program(earn=None),
        member_=member(),
    ),
    # --- allocation of fen over lines (largest remainder) ------------------------------------
    # 10 fen over 3 equal lines of 1000: 3.33 each -> 3, 3, 3 and the last fen to the first.
    case(
        "ten_fen_over_three_equal_lines",
        basket(*dishes(1000, 1000, 1000)),
        {"applied": [("F10", 10)], "lines": [996, 997, 997], "line_discounts": [4, 3, 3]},
        program_=program(promo("F10", benefit("fixed", 10))),
    ),
    # 10 fen over 1001, 1002, 1003 (3006): remainders 992, 1002, 1012 of 3006 -> the third.
    case(
        "ten_fen_largest_remainder_wins",
        basket(*dishes(1001, 1002, 1003)),
        {"lines": [998, 999, 999], "line_discounts": [3, 3, 4]},
        program_=program(promo("F10", benefit("fixed", 10))),
    ),
    # 1 % of 333 + 333 + 334 = 1000 -> 10 fen; 3.33, 3.33, 3.34 -> the third gets the 10th.
    case(
        "percent_ten_fen_over_three_lines",
        basket(*dishes(333, 333, 334)),
        {"applied": [("P1", 10)], "lines": [330, 330, 330]},
        program_=program(promo("P1", benefit("percent", 1))),
    ),
    # Weighted by what is left: A loses 500 first (priority 10), then 10 fen over 500, 1000,
    # 1000 -> 2, 4, 4; lines 498, 996, 996.
    case(
        "allocation_weighted_by_what_is_left",
        basket(*dishes(1000, 1000, 1000)),
        {"applied": [("A500", 500), ("F10", 10)], "lines": [498, 996, 996]},
        program_=program(
            promo("A500", benefit("fixed", 500, skus={"A"}), priority=10),
            promo("F10", benefit("fixed", 10), priority=20),
        ),
    ),
]


def observe(result: Quote, name: str):
    """One figure of a quote; lists in line order, applied/rejected as sorted pairs."""
    if name == "applied":
        return sorted((a.code, a.amount) for a in result.applied)
    if name == "rejected":
        return sorted((r.code, r.reason) for r in result.rejected)
    if name == "lines":
        return [p.total for p in result.lines]
    if name == "line_discounts":
        return [p.discount for p in result.lines]
    if name == "member_prices":
        return [p.member_price for p in result.lines if not p.gift]
    if name == "points_offsets":
        return [p.points_offset for p in result.lines]
    if name == "gifts":
        return [(p.sku, p.quantity) for p in result.lines if p.gift]
    return getattr(result, name)


@pytest.mark.parametrize(("basket_", "member_", "program_", "now", "expect"), CASES)
def test_scenario(basket_, member_, program_, now, expect):
    result = quote(basket_, member_, program_, now)
    observed = {name: observe(result, name) for name in expect}
    wanted = {
        name: sorted(value) if name in ("applied", "rejected") else value
        for name, value in expect.items()
    }
    if "lines" in expect:  # None: a line this case says nothing about
        observed["lines"] = [
            None if want is None else got
            for got, want in zip(observed["lines"], expect["lines"], strict=True)
        ]
    assert observed == wanted
    check_invariants(result, basket_, member_, program_)


def test_gift_line_shape():
    """The gift line is the promotion's SKU at 0, flagged, after the sold lines."""
    result = quote(
        basket(ROOM1),
        WALK_IN,
        program(promo("MUG", benefit("gift", sku="GIFT-MUG", quantity=2))),
        NOW,
    )
    gift = result.lines[-1]
    assert (gift.sku, gift.category, gift.quantity, gift.unit_price) == ("GIFT-MUG", "", 2, 0)
    assert (gift.discount, gift.points_offset, gift.total, gift.gift) == (0, 0, 0, True)
    assert [(a.code, a.kind, a.amount, a.benefit) for a in result.applied] == [
        ("MUG", "automatic", 0, "gift")
    ]


def test_applied_names_kind_and_benefit():
    """`applied` says which kind of promotion gave what benefit (for the receipt and reports)."""
    # The coupon is named by its own code, not by its template's.
    issued = Coupon("SPRING-0001", promo("spring", SPRING, kind="coupon"), member_id="m1")
    result = quote(
        basket(ROOM1, codes=("MJ50", "SPRING-0001")),
        member(coupons=(issued,)),
        program(P10, code_promo("MJ50", benefit("fixed", 5000), priority=20)),
        NOW,
    )
    # P10: 3200 -> 28800; MJ50: 5000 -> 23800; coupon 10 % of 23800 = 2380 -> 21420.
    assert [(a.code, a.kind, a.benefit, a.amount) for a in result.applied] == [
        ("P10", "automatic", "percent", 3200),
        ("MJ50", "code", "fixed", 5000),
        ("SPRING-0001", "coupon", "percent", 2380),
    ]
    assert result.total == 21420


def test_quote_does_not_need_a_program_with_tiers():
    """A merchant without tiers: members pay list price (no tier to look up)."""
    result = quote(basket(ROOM1), member("gold"), program(tiers=()), NOW)
    assert (result.member_discount, result.total) == (0, 32000)


def test_free_items_spread_over_scope_lines():
    """The lead's rule: every discount, free items too, is allocated over its scope lines."""
    result = quote(MIXED_DRINKS, WALK_IN, program(B1G1), NOW)
    # 2700 over what is left on the drinks (3000, 2000, 1200 of 6200), largest remainder:
    # 2700*3000/6200 = 1306.45, 2700*2000/6200 = 870.97, 2700*1200/6200 = 522.58; floors
    # 1306 + 870 + 522 = 2698, the 2 fen left go to .97 and .58 -> 1306, 871, 523.
    # Lines 32000, 3000 - 1306 = 1694, 2000 - 871 = 1129, 1200 - 523 = 677.
    assert [p.total for p in result.lines] == [32000, 1694, 1129, 677]


def test_cheapest_percent_spread_over_scope_lines():
    result = quote(
        basket(ROOM1, TEA2, line("JUICE", "drinks", 1, 1200)), WALK_IN, program(CH50), NOW
    )
    # 600 over the drinks' 3000 and 1200 (4200): 428.57 and 171.43 -> 429 and 171.
    assert [p.total for p in result.lines] == [32000, 2571, 1029]


def test_codes_match_ignoring_case_spaces_and_dashes():
    """Tills type codes by hand: 'spring 0001' is the coupon SPRING-0001, and typing it again
    in another spelling is a duplicate. Answers name the code as typed; applied names it as
    issued."""
    result = quote(
        basket(ROOM1, codes=("spring 0001", "SPRING0001")),
        member(coupons=(coupon("SPRING-0001", SPRING),)),
        program(),
        NOW,
    )
    assert [(a.code, a.amount) for a in result.applied] == [("SPRING-0001", 3200)]
    assert [(r.code, r.reason) for r in result.rejected] == [("SPRING0001", "duplicate_code")]
