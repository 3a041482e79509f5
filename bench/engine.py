"""Pricing-engine throughput: `quote` on a busy basket against baselines in the same process.

    .venv/bin/python bench/engine.py [--seconds 3] [--profile]

The basket has 10 lines over five categories; the program has three tiers and 20 active
promotions of mixed kinds (automatic and code, stackable and exclusive, thresholds, category
and SKU scopes, every benefit type), the sale types three codes and a coupon, redeems points
and pays partly by stored value; the member is gold (tier prices and a 1.5x multiplier).
Runs on one core (one Python thread). Prints quotes/s by the wall clock and per CPU-second
(target: >= 5,000 on one core), p50/p99 per quote in microseconds, and two baselines measured
alongside: the same quote with no promotions, and a pure-Python sum of the lines. Batches
alternate so load drift on a shared machine hits all loops alike. Two more figures: the
busy quote under a new Program object around the same promotions, as the sales app builds
one per sale, and what preparing the 20 promotions costs the first quote that sees them
(the engine caches prepared promotions; see patron/engine/pricing.py). Not a test: nothing
is asserted, figures are printed.

It says which engine it measured (`patron.engine.ENGINE`: compiled by mypyc, or the Python
source), and when that is the compiled one it measures the pure-Python engine alongside (the
same source, loaded beside it) and prints the ratio. PATRON_ENGINE_PURE=1 measures only pure.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import dataclasses
import datetime as dt
import io
import pstats
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import patron.engine  # noqa: E402
from patron.engine import native  # noqa: E402
from patron.engine.points import EarnRule  # noqa: E402
from patron.engine.pricing import (  # noqa: E402
    Basket,
    Benefit,
    Condition,
    Coupon,
    Line,
    MemberContext,
    Program,
    Promotion,
    RedeemRule,
    Tier,
    quote,
)

NOW = dt.datetime(2027, 3, 2, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Tuesday
TARGET = 5000  # quotes/s, from the issue
BATCH = 200


def make_lines() -> tuple[Line, ...]:
    return (
        Line("ROOM-STD", "rooms", 2, 32000),
        Line("ROOM-KING", "rooms", 1, 45800, member_price=41000),
        Line("DISH-DUCK", "dishes", 1, 16800),
        Line("DISH-FISH", "dishes", 2, 9800),
        Line("SOUP", "dishes", 3, 2800),
        Line("TEA", "drinks", 4, 1500),
        Line("COFFEE", "drinks", 2, 2200),
        Line("JUICE", "drinks", 3, 1200),
        Line("SPA", "services", 1, 26800),
        Line("SHIP", "shipping", 1, 1500),
    )


def promotion(code: str, benefit: Benefit, kind: str = "automatic", **fields) -> Promotion:
    condition = fields.pop("condition", Condition())
    return Promotion(code, kind, benefit, condition, name=code, **fields)  # type: ignore[arg-type]


def make_promotions() -> tuple[Promotion, ...]:
    """20 promotions; most qualify, a few are held back by a condition, two are exclusive."""
    f = frozenset
    return (
        promotion(
            "TUESDAY",
            Benefit("percent", 5),
            priority=10,
            members_only=True,
            condition=Condition(weekdays=f({2})),
        ),
        promotion(
            "MJ300",
            Benefit("fixed", 5000),
            priority=20,
            condition=Condition(min_amount=30000),
        ),
        promotion(
            "ROOMS88",
            Benefit("percent", 12, categories=f({"rooms"}), max_discount=8000),
            priority=30,
        ),
        promotion("DRINKS-B2G1", Benefit("free_items", buy=2, get=1, categories=f({"drinks"}))),
        promotion(
            "SOUP-HALF",
            Benefit("cheapest_percent", 50, skus=f({"SOUP"})),
            condition=Condition(min_quantity=2),
        ),
        promotion("FISH-FP", Benefit("fixed_price", 8800, skus=f({"DISH-FISH"})), priority=40),
        promotion("MUG", Benefit("gift", sku="GIFT-MUG", quantity=1), priority=50),
        promotion("DOUBLE", Benefit("points_multiplier", 200), priority=60),
        promotion("FREESHIP", Benefit("free_shipping"), priority=70),
        promotion(
            "SPA-MJ",
            Benefit("fixed", 3000, categories=f({"services"})),
            condition=Condition(min_amount=20000),
        ),
        promotion(
            "FLASH",
            Benefit("percent", 8, categories=f({"dishes"})),
            condition=Condition(
                starts_at=NOW - dt.timedelta(hours=2), ends_at=NOW.replace(hour=14)
            ),
        ),
        promotion("S2-ONLY", Benefit("fixed", 2000), condition=Condition(stores=f({"S2"}))),
        promotion(
            "GOLD-SPA",
            Benefit("percent", 10, skus=f({"SPA"})),
            condition=Condition(tiers=f({"gold"})),
        ),
        promotion(
            "NEWBIE",
            Benefit("fixed", 3000),
            condition=Condition(first_purchase=True),
        ),
        promotion(
            "BIG-SPENDER",
            Benefit("fixed", 20000),
            priority=90,
            condition=Condition(min_amount=500000),
        ),
        promotion("VIP25", Benefit("percent", 25), "code", stacking="exclusive", priority=5),
        promotion("CORP", Benefit("fixed", 15000, max_discount=12000), "code", priority=80),
        promotion(
            "WEEKEND", Benefit("percent", 15), "code", condition=Condition(weekdays=f({6, 7}))
        ),
        promotion(
            "MEGA",
            Benefit("fixed", 60000),
            "automatic",
            stacking="exclusive",
            condition=Condition(min_amount=200000),
        ),
        promotion("TEA-COMBO", Benefit("fixed", 800, skus=f({"TEA", "COFFEE"})), priority=85),
    )


def make_program(promotions: tuple[Promotion, ...]) -> Program:
    return Program(
        tiers=(
            Tier("normal", 0),
            Tier("silver", 1, {"rooms": 88}),
            Tier("gold", 2, {"rooms": 80, "dishes": 90}, points_multiplier_percent=150),
        ),
        promotions=promotions,
        earn=EarnRule(per_amount=10000, points=1),
        earn_exclude_categories=frozenset({"shipping"}),
        redeem=RedeemRule(points=100, value=100, max_share_percent=50),
    )


def make_member() -> MemberContext:
    coupon = Coupon(
        "ROOMNIGHT-0001",
        promotion(
            "room_night",
            Benefit("free_items", quantity=1, skus=frozenset({"ROOM-STD"})),
            "coupon",
        ),
        member_id="m1",
        valid_until=NOW + dt.timedelta(days=30),
    )
    return MemberContext(
        member_id="m1",
        tier="gold",
        points_available=50000,
        stored_value=100000,
        coupons={coupon.code: coupon},
    )


def make_basket(codes: tuple[str, ...]) -> Basket:
    return Basket("S1", make_lines(), codes, points_to_redeem=3000, stored_value=20000)


def untimed_batch(run: Callable[[], object], count: int) -> tuple[float, float]:
    """(wall, CPU) seconds for `count` calls with no clock inside the loop (for the rate).
    CPU time leaves out the time other processes had the core, which on a shared machine
    is the truer figure for "one core"."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        run()
    return time.perf_counter() - wall, time.process_time() - cpu


def timed_batch(run: Callable[[], object], count: int, samples: list[int]) -> None:
    """`count` calls, each one's ns appended to `samples` (for the percentiles)."""
    clock = time.perf_counter_ns
    for _ in range(count):
        start = clock()
        run()
        samples.append(clock() - start)


@dataclass
class Figures:
    calls: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    samples: list[int] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.calls / self.seconds

    @property
    def cpu_rate(self) -> float:
        return self.calls / self.cpu_seconds if self.cpu_seconds else float("nan")

    def percentile(self, fraction: float) -> float:
        """Microseconds."""
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] / 1000


def measure(loops: dict[str, Callable[[], object]], seconds: float) -> dict[str, Figures]:
    """Alternate batches of every loop until `seconds` have passed."""
    figures = {name: Figures() for name in loops}
    for run in loops.values():  # warm-up: imports, caches, zoneinfo
        untimed_batch(run, 50)
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for name, run in loops.items():
            wall, cpu = untimed_batch(run, BATCH)
            figures[name].seconds += wall
            figures[name].cpu_seconds += cpu
            figures[name].calls += BATCH
            timed_batch(run, BATCH // 4, figures[name].samples)
    return figures


def report(figures: dict[str, Figures], pure_name: str | None) -> None:
    width = max(len(name) for name in figures)
    for name, f in figures.items():
        print(
            f"{name:<{width}} : {f.rate:>10,.0f} /s ({f.cpu_rate:>10,.0f} per CPU-second)"
            f"   p50 {f.percentile(0.5):8.1f} µs   p99 {f.percentile(0.99):8.1f} µs"
            f"   ({f.calls:,} calls)"
        )
    (full_name, full), (bare_name, bare), (sum_name, total) = list(figures.items())[:3]
    print(f"ratio {full_name} / {bare_name}: {full.rate / bare.rate:.2f}")
    print(f"ratio {full_name} / {sum_name}: {full.rate / total.rate:.4f}")
    if pure_name is not None:
        pure = figures[pure_name]
        print(
            f"ratio compiled / pure, per CPU-second: {full.cpu_rate / pure.cpu_rate:.2f}"
            f" ({full.cpu_rate:,.0f} / {pure.cpu_rate:,.0f})"
        )
    verdict = "met" if full.cpu_rate >= TARGET else "NOT met"
    print(
        f"target >= {TARGET:,} quotes/s on one core: {verdict} "
        f"({full.rate:,.0f}/s wall, {full.cpu_rate:,.0f} per CPU-second)"
    )


def first_quote_cost(run: Callable[[object], object], program: object, times: int = 200) -> float:
    """Median µs of the first quote on a deep copy of `program` (promotions never seen, so
    prepared on the spot) minus the median of a second quote on it (prepared, cached)."""
    first, second = [], []
    clock = time.perf_counter_ns
    for _ in range(times):
        cold = copy.deepcopy(program)
        start = clock()
        run(cold)
        first.append(clock() - start)
        start = clock()
        run(cold)
        second.append(clock() - start)
    first.sort()
    second.sort()
    return (first[times // 2] - second[times // 2]) / 1000


def profile(run: Callable[[], object], calls: int = 5000) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        run()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
    print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--profile", action="store_true", help="cProfile the full quote")
    args = parser.parse_args()
    print(f"engine: {patron.engine.ENGINE} ({patron.engine.ENGINE_REASON})")
    member = make_member()
    busy = make_program(make_promotions())
    bare = make_program(())
    basket = make_basket(("VIP25", "CORP", "WEEKEND", "ROOMNIGHT-0001"))
    plain = make_basket(())
    lines = plain.lines

    sample = quote(basket, member, busy, NOW)
    print(
        f"basket: {len(lines)} lines, subtotal {sample.subtotal}, total {sample.total}; "
        f"{len(busy.promotions)} promotions: {len(sample.applied)} applied "
        f"({', '.join(a.code for a in sample.applied)}), {len(sample.rejected)} codes rejected, "
        f"{sample.points_redeemed} points redeemed, {sample.points_earned} earned"
    )
    loops: dict[str, Callable[[], object]] = {
        "quote, 20 promotions": lambda: quote(basket, member, busy, NOW),
        "quote, 0 promotions": lambda: quote(plain, member, bare, NOW),
        "sum of the lines": lambda: sum(line.quantity * line.unit_price for line in lines),
        # What the sales app does: a new Program (and promotions tuple) per sale, around the
        # same cached Promotion objects. Includes building the Program (a few µs).
        "quote, 20 promotions, new Program": lambda: quote(
            basket, member, dataclasses.replace(busy, promotions=tuple(busy.promotions)), NOW
        ),
    }
    pure_name = None
    if patron.engine.ENGINE == "compiled":
        pure = native.load_pure()  # the same source, not compiled, beside the compiled one
        pure_name = "quote, 20 promotions, pure Python"
        loops[pure_name] = lambda: pure.quote(basket, member, busy, NOW)
        assert pure.quote(basket, member, busy, NOW) == sample
    report(measure(loops, args.seconds), pure_name)
    prepare = first_quote_cost(lambda program: quote(basket, member, program, NOW), busy)
    print(f"preparing the 20 promotions (first quote that sees them): {prepare:,.0f} µs once")
    if args.profile:
        profile(loops["quote, 20 promotions"])


if __name__ == "__main__":
    main()
