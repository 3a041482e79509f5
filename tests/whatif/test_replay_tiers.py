"""The replay's tiers on their own (pure: no database): the nightly review's grace and
downgrade as the rolling 12 months leave a member's spend behind, and paid-membership floors."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from patron.engine import pricing
from patron.engine import tiers as tier_rules
from patron.engine.points import EarnRule
from patron.whatif import replay

SH = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 1, 1, tzinfo=SH)
END = dt.datetime(2026, 12, 1, tzinfo=SH)


def rules(grace_days: int = 30) -> replay.Rules:
    return replay.Rules(
        program=pricing.Program(
            tiers=(
                pricing.Tier("normal", 0),
                pricing.Tier("silver", 1, discount={"rooms": 88}),
            ),
            earn=EarnRule(per_amount=100, points=1),
        ),
        tiers=(
            tier_rules.TierRule("normal", 0),
            tier_rules.TierRule(
                "silver",
                1,
                upgrade_when={"spend_12m": 100000},
                keep_when={"spend_12m": 50000},
                grace_days=grace_days,
            ),
        ),
        templates={},
    )


def room(sale_id: int, at: dt.datetime) -> replay.SaleRecord:
    return replay.SaleRecord(
        id=sale_id,
        member_id=1,
        store="S1",
        at=at,
        lines=(pricing.Line("ROOM", "rooms", 1, 10000),),
    )


def history(*sales: replay.SaleRecord, floors=()) -> replay.MemberHistory:
    # 600 yuan on 2025-03-01: enough to keep silver until it leaves the window on 2026-03-01
    # (that day's window starts on 2025-03-02, as cards.tiers.window says).
    spent = dt.datetime(2025, 3, 1, 12, tzinfo=SH)
    return replay.MemberHistory(
        member_id=1,
        start_tier="silver",
        facts=[replay.Fact("spend", spent, 60000, sale_id=99)],
        sales=list(sales),
        floors=list(floors),
    )


def member_discounts(part: replay.Part) -> int:
    return part.current.totals.member_discount


# A range that starts on 15 March, inside the grace period that began on 1 March.
MID_GRACE = dt.datetime(2026, 3, 15, tzinfo=SH)


@pytest.mark.parametrize("start", [START, MID_GRACE], ids=["before", "in-grace"])
def test_silver_is_kept_through_grace_then_lost_one_night_after_it(start):
    # The spend leaves the window at 2026-03-01 00:00; the review of 03:30 that night starts
    # the grace period; 30 days later (2026-03-31 03:30) the member drops to normal. A range
    # that starts inside the grace keeps its first night (the reviews before the range started
    # it, as the job did), not 30 days after the range's first night.
    in_grace = room(1, dt.datetime(2026, 3, 30, 12, tzinfo=SH))
    after = room(2, dt.datetime(2026, 3, 31, 12, tzinfo=SH))
    part = replay.walk([history(in_grace, after)], [], rules(), rules(), start, END)
    assert member_discounts(part) == 1200  # the first room at 88, the second at full price
    assert part.current.end_tiers == {1: "normal"}


def test_a_fact_leaves_the_window_on_the_day_window_start_passes_it():
    # _Figures._out_of_window is window_start turned around: pinned to it, leap day included.
    figures = replay._Figures(SH, 0, 0, [])
    day = dt.date(2024, 1, 1)
    while day < dt.date(2025, 12, 31):
        moment = dt.datetime(day.year, day.month, day.day, 12, tzinfo=SH)
        out = figures._out_of_window(moment)
        assert tier_rules.window_start(out, SH) > moment
        assert tier_rules.window_start(out - dt.timedelta(seconds=1), SH) <= moment
        day += dt.timedelta(days=1)


def test_a_sale_in_grace_that_meets_keep_clears_it():
    back = replay.SaleRecord(
        id=1,
        member_id=1,
        store="S1",
        at=dt.datetime(2026, 3, 20, tzinfo=SH),
        lines=(pricing.Line("DISH", "dishes", 1, 60000),),
    )
    later = room(2, dt.datetime(2026, 6, 1, tzinfo=SH))
    part = replay.walk([history(back, later)], [], rules(), rules(), START, END)
    assert member_discounts(part) == 1200  # still silver in June
    assert part.current.end_tiers == {1: "silver"}


def test_a_longer_grace_in_the_draft_keeps_silver_longer():
    after = room(2, dt.datetime(2026, 4, 1, 12, tzinfo=SH))
    part = replay.walk([history(after)], [], rules(30), rules(60), START, END)
    assert part.current.totals.member_discount == 0
    assert part.draft.totals.member_discount == 1200


def test_a_paid_membership_floor_holds_the_tier():
    paid = replay.TierSet(
        at=dt.datetime(2026, 1, 1, tzinfo=SH),
        code="silver",
        floor=True,
        until=dt.datetime(2026, 6, 1, tzinfo=SH),
    )
    may = room(1, dt.datetime(2026, 5, 30, tzinfo=SH))
    july = room(2, dt.datetime(2026, 7, 15, tzinfo=SH))
    part = replay.walk([history(may, july, floors=[paid])], [], rules(), rules(), START, END)
    # Held while the membership lasts (its floor clears the grace period); from 1 June a new
    # grace period of 30 days, so normal by mid-July.
    assert member_discounts(part) == 1200
    assert part.current.end_tiers == {1: "normal"}


def test_members_with_nothing_move_alike():
    ends = replay.idle_tiers({"silver": 5, None: 3}, rules(), START, END)
    assert ends == {"normal": 8}  # silver without spend: grace, then down


def test_a_grace_period_starts_no_earlier_than_the_tier_was_set():
    # Silver set by hand on 5 March: the first review on it, 6 March 03:30, starts the grace
    # period, so the member drops on 5 April 03:30: the room of 31 March is at silver's price,
    # the one of 5 April noon is not (a grace from 1 March would take both; none before the
    # range, neither).
    held = history(
        room(1, dt.datetime(2026, 3, 31, 12, tzinfo=SH)),
        room(2, dt.datetime(2026, 4, 5, 12, tzinfo=SH)),
    )
    held.tier_since = dt.datetime(2026, 3, 5, 12, tzinfo=SH)
    part = replay.walk([held], [], rules(), rules(), MID_GRACE, END)
    assert member_discounts(part) == 1200
    assert part.current.end_tiers == {1: "normal"}


def test_members_with_nothing_in_a_range_that_starts_late_are_already_in_grace():
    # Silver without spend, the tier set long ago: the grace ran out before the range, so the
    # first review in it takes them down.
    first_night = dt.datetime(2026, 3, 15, 12, tzinfo=SH)
    ends = replay.idle_tiers({"silver": 2}, rules(), MID_GRACE, first_night)
    assert ends == {"normal": 2}


def pure_replay():
    """patron/whatif/replay.py as Python source, beside the module in use (compiled with the
    engine when `make install` built it: patron/engine/native.py)."""
    import importlib.util
    import sys
    from pathlib import Path

    import patron.whatif

    path = Path(patron.whatif.__file__).parent / "replay.py"
    spec = importlib.util.spec_from_file_location("patron.whatif._replay_source", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def walked(module) -> tuple:
    """A year of two members under a 30- and a 60-day grace: sales, a refund, a paid floor,
    a tier set by hand, and a walk-in; everything the walk gives back."""

    def sale(sale_id, member_id, at, price, category="rooms", refunds=()):
        return module.SaleRecord(
            id=sale_id,
            member_id=member_id,
            store="S1",
            at=at,
            lines=(pricing.Line("ROOM", category, 1, price),),
            refunds=refunds,
        )

    day = dt.datetime(2026, 2, 1, 12, tzinfo=SH)
    back = module.Refunded(
        at=day + dt.timedelta(days=3), amount=40000, points_reversed=400, in_full=False
    )
    first = module.MemberHistory(
        member_id=1,
        start_tier="silver",
        facts=[module.Fact("spend", dt.datetime(2025, 3, 1, 12, tzinfo=SH), 60000, sale_id=99)],
        sales=[
            sale(1, 1, day, 120000, refunds=(back,)),
            sale(2, 1, day + dt.timedelta(days=60), 30000),
            sale(3, 1, day + dt.timedelta(days=200), 30000, "dishes"),
        ],
        sets=[module.TierSet(at=day + dt.timedelta(days=100), code="silver")],
    )
    second = module.MemberHistory(
        member_id=2,
        start_tier=None,
        sales=[sale(4, 2, day + dt.timedelta(days=n * 7), 20000) for n in range(30)],
        floors=[
            module.TierSet(at=day, code="silver", floor=True, until=day + dt.timedelta(days=90))
        ],
    )
    third = module.MemberHistory(  # down after 30 days' grace, kept through 60 (the draft)
        member_id=3,
        start_tier="silver",
        facts=[module.Fact("spend", dt.datetime(2025, 3, 1, 12, tzinfo=SH), 60000, sale_id=98)],
        sales=[sale(6, 3, dt.datetime(2026, 4, 5, 12, tzinfo=SH), 10000)],
    )
    walk_in = sale(5, None, day + dt.timedelta(days=1), 50000)
    part = module.walk([first, second, third], [walk_in], rules(30), rules(60), START, END)

    def figures(totals) -> tuple[int, ...]:
        return (totals.sales, *(getattr(totals, name) for name in module.MONEY))

    return tuple(
        (
            figures(outcome.totals),
            {month: figures(totals) for month, totals in outcome.by_month.items()},
            dict(outcome.by_promotion),
            outcome.points_delta,
            outcome.end_tiers,
        )
        for outcome in (part.current, part.draft)
    )


def test_the_walk_in_use_gives_what_its_source_gives():
    assert walked(replay) == walked(pure_replay())
