"""The replay itself: recorded sales walked through time and priced under one program.

Pure Python (no Django, no database): the history and the rules come in as plain values
(`history.py` and `rules.py` read them), figures come out. So the walk runs the same in the
web process, in a job and in worker processes (`services.py` splits the members between them).

For each member the walk keeps their tier as the program's rules move it (docs/whatif.md):
- right after each sale and top-up the member goes up to the highest tier their figures earn
  (`engine.tiers.upgrade`, as `cards.tiers.on_activity` does);
- every night at 03:30 in the merchant's zone the review runs (`engine.tiers.review`:
  upgrades, grace periods, one rank down after grace), as the nightly job does; nights on which
  nothing can change are skipped (figures only fall between events, when a sale leaves the
  rolling 12 months, and a grace period ends on a known night);
- a tier set by other means (by hand, a paid membership, a card product, a first deposit, an
  import) is set at its recorded moment in both replays.
"""

from __future__ import annotations

import bisect
import datetime as dt
import heapq
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from operator import attrgetter
from zoneinfo import ZoneInfo

from patron.engine import pricing
from patron.engine import tiers as tier_rules
from patron.engine.money import div_round_half_up

NEVER = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)  # a review no change brings forward
REVIEW_HOUR, REVIEW_MINUTE = 3, 30  # cards.review_tiers_nightly reviews at 03:30 local
RECORDED_FIELDS = (
    "subtotal",
    "member_discount",
    "discount",
    "points_redeemed",
    "points_value",
    "total",
    "points_earned",
)


# --- what comes in ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Rules:
    """One program as the replay needs it: the engine's program, the tier rules, the coupon
    templates (by template code) and the cash value of a point."""

    program: pricing.Program
    tiers: tuple[tier_rules.TierRule, ...]
    templates: Mapping[str, pricing.Promotion]
    redeem_points: int = 100
    redeem_value: int = 0

    def points_value(self, points: int) -> int:
        if not self.redeem_points:
            return 0
        return div_round_half_up(points * self.redeem_value, self.redeem_points)


@dataclass(frozen=True)
class CouponUse:
    """A coupon named on a recorded sale: whose, from which template, valid when."""

    template: str
    member_id: int | None
    valid_from: dt.datetime | None
    valid_until: dt.datetime | None


@dataclass(slots=True)  # not frozen: a million are made per replay, twice as fast
class Recorded:
    subtotal: int
    member_discount: int
    discount: int
    points_redeemed: int
    points_value: int
    total: int
    points_earned: int


@dataclass(slots=True)  # not frozen: a million are made per replay, twice as fast
class Refunded:
    at: dt.datetime
    amount: int
    points_reversed: int
    in_full: bool  # the sale had nothing left after this refund


@dataclass(slots=True)  # not frozen: a million are made per replay, twice as fast
class SaleRecord:
    id: int
    member_id: int | None
    store: str
    at: dt.datetime
    lines: tuple[pricing.Line, ...]
    codes: tuple[str, ...] = ()
    coupons: Mapping[str, CouponUse] = field(default_factory=dict)
    points_to_redeem: int = 0
    stored_value: int = 0
    first_purchase: bool = False
    imported: bool = False  # history brought in by `patron import sales`: no tier figures
    recorded: Recorded | None = None
    refunds: tuple[Refunded, ...] = ()
    # When the till took it (Sale.created_at): a sale backdated to `at` was priced by the
    # tier the member held when it was taken. None: at `at` (imported history).
    taken_at: dt.datetime | None = None

    @property
    def clock(self) -> dt.datetime:
        """Where the sale stands in the walk: when it was taken."""
        return self.taken_at or self.at


@dataclass(slots=True)  # not frozen: a million are made per replay, twice as fast
class Fact:
    """A recorded movement of a member's tier figures that the replay does not re-price:
    `kind` spend (a sale's total, or a refund against it: `window_at` is the sale's moment),
    points (earned), topup (a top-up's principal)."""

    kind: str
    at: dt.datetime
    amount: int
    window_at: dt.datetime | None = None
    sale_id: int | None = None
    in_full: bool = False  # a refund that left nothing of its sale


@dataclass(frozen=True)
class TierSet:
    at: dt.datetime
    code: str | None
    floor: bool = False  # a paid membership: the review never goes below it while it lasts
    until: dt.datetime | None = None
    activity: bool = False  # not a tier set: a top-up or purchase, after which tiers may move


@dataclass
class MemberHistory:
    member_id: int
    start_tier: str | None
    spend_before: int = 0  # spend_total before the facts' window (lifetime, net of refunds)
    points_before: int = 0
    facts: list[Fact] = field(default_factory=list)  # sorted by `at`
    sets: list[TierSet] = field(default_factory=list)  # and top-ups (activity), by `at`
    floors: list[TierSet] = field(default_factory=list)  # paid memberships
    sales: list[SaleRecord] = field(default_factory=list)  # the ones replayed, by `at`
    # When the start tier was set (the last change before the range; None: long before it).
    tier_since: dt.datetime | None = None


# --- what comes out --------------------------------------------------------------------------

MONEY = ("revenue", "discount", "member_discount", "points_earned", "points_redeemed")


@dataclass
class Totals:
    sales: int = 0
    revenue: int = 0
    discount: int = 0
    member_discount: int = 0
    points_earned: int = 0
    points_redeemed: int = 0

    def add(self, result: pricing.Quote) -> None:
        self.sales += 1
        self.revenue += result.total
        self.discount += result.discount - result.member_discount
        self.member_discount += result.member_discount
        self.points_earned += result.points_earned
        self.points_redeemed += result.points_redeemed

    def merge(self, other: Totals) -> None:
        self.sales += other.sales
        for name in MONEY:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Outcome:
    """One program's figures over the replayed sales."""

    totals: Totals = field(default_factory=Totals)
    by_promotion: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    by_month: dict[str, Totals] = field(default_factory=lambda: defaultdict(Totals))
    by_store: dict[str, Totals] = field(default_factory=lambda: defaultdict(Totals))
    end_tiers: dict[int, str | None] = field(default_factory=dict)
    # points earned less redeemed (and less reversed) beyond what was recorded
    points_delta: int = 0

    def merge(self, other: Outcome) -> None:
        self.totals.merge(other.totals)
        for code, amount in other.by_promotion.items():
            self.by_promotion[code] += amount
        for month, totals in other.by_month.items():
            self.by_month[month].merge(totals)
        for store, totals in other.by_store.items():
            self.by_store[store].merge(totals)
        self.end_tiers.update(other.end_tiers)
        self.points_delta += other.points_delta


@dataclass(frozen=True)
class Difference:
    """A recorded sale the current program's replay prices otherwise."""

    sale_id: int
    field: str
    recorded: int
    replayed: int


@dataclass
class Part:
    """What one walk over some members gives: both outcomes and the faithfulness check."""

    current: Outcome = field(default_factory=Outcome)
    draft: Outcome = field(default_factory=Outcome)
    compared: int = 0  # recorded (not imported) sales checked against the current replay
    differences: list[Difference] = field(default_factory=list)
    differing_sales: int = 0

    def merge(self, other: Part) -> None:
        self.current.merge(other.current)
        self.draft.merge(other.draft)
        self.compared += other.compared
        self.differences.extend(other.differences)
        self.differing_sales += other.differing_sales


# --- the rolling figures ---------------------------------------------------------------------


@dataclass
class _Figures:
    """A member's tier figures as events in time; read as of any moment.

    The walk reads them forward in time, so `at` keeps the figures of its last read and moves
    them on: facts up to the new moment come in, facts older than the new window go out of
    the 12-month figures. A read before the last one, or a fact added at or before it, falls
    back to adding everything up again (`scan`), which gives the same figures."""

    zone: ZoneInfo
    spend_before: int
    points_before: int
    facts: list[Fact]
    # Upper bounds of every figure, whenever read (negative movements left out): when even
    # they reach no tier above, the upgrade check needs no read (`could_reach`). Worked out
    # from the facts unless given (a copy of another program's, on the same facts).
    bounds: dict[str, int] = field(default_factory=dict)
    bounds_negative: int = 0  # movements against the figures (refunds, points taken back)

    def __post_init__(self) -> None:
        self._restart()
        if not self.bounds:  # given ones hold every key
            self.bounds, self.bounds_negative = _bounds_of(
                self.spend_before, self.points_before, self.facts
            )

    def _bound(self, fact: Fact) -> None:
        if _bound(self.bounds, fact):
            self.bounds_negative += 1

    def _restart(self) -> None:
        self._moment: dt.datetime | None = None  # of the last forward read
        self._entered = 0  # facts[:_entered] are at or before it
        self._inside: list[tuple[dt.datetime, int, Fact]] = []  # (window moment, n, fact)
        self._spend_total = self.spend_before
        self._points_total = self.points_before
        self._spend_12m = 0
        self._points_12m = 0
        self._sales: dict[int, int] = {}  # sale id -> total, in the window, not refunded
        self._topups: dict[int, int] = {}  # n -> a top-up's principal, in the window

    def add(self, fact: Fact) -> None:
        self._bound(fact)
        if self._moment is not None and fact.at <= self._moment:
            self._restart()  # it belongs before the last read: add up again
        if self.facts and fact.at < self.facts[-1].at:
            bisect.insort(self.facts, fact, key=lambda f: f.at)
        else:
            self.facts.append(fact)

    def at(self, moment: dt.datetime) -> dict[str, int]:
        if self._moment is not None and moment < self._moment:
            return self.scan(moment)
        start = _window_start(moment, self.zone)
        self._moment = moment
        facts, inside = self.facts, self._inside
        while self._entered < len(facts) and facts[self._entered].at <= moment:
            fact = facts[self._entered]
            self._enter(fact, (fact.window_at or fact.at) >= start)
            if (fact.window_at or fact.at) >= start:
                heapq.heappush(inside, (fact.window_at or fact.at, self._entered, fact))
            self._entered += 1
        while inside and inside[0][0] < start:
            _, number, fact = heapq.heappop(inside)
            self._leave(fact, number)
        topup = max(self._topups.values(), default=0)
        return {  # in the order of tier_rules.KEYS
            "spend_12m": self._spend_12m,
            "spend_total": self._spend_total,
            "points_12m": self._points_12m,
            "points_total": self._points_total,
            "single_topup": topup if topup > 0 else 0,
            "single_sale": max(self._sales.values(), default=0),
            "visits_12m": len(self._sales),
        }

    def _enter(self, fact: Fact, in_window: bool) -> None:
        """What `scan` does with one fact, kept."""
        if fact.kind == "spend":
            self._spend_total += fact.amount
            if in_window:
                self._spend_12m += fact.amount
                if fact.amount >= 0 and fact.sale_id is not None:
                    self._sales[fact.sale_id] = fact.amount
                elif fact.in_full and fact.sale_id is not None:
                    self._sales.pop(fact.sale_id, None)
        elif fact.kind == "points":
            self._points_total += fact.amount
            if in_window:
                self._points_12m += fact.amount
        elif fact.kind == "topup" and in_window:
            self._topups[self._entered] = fact.amount

    def _leave(self, fact: Fact, number: int) -> None:
        """A fact out of the window: out of the 12-month figures. A sale's facts (the sale and
        its refunds) share the sale's moment, so they leave together and take it along."""
        if fact.kind == "spend":
            self._spend_12m -= fact.amount
            if fact.sale_id is not None:
                self._sales.pop(fact.sale_id, None)
        elif fact.kind == "points":
            self._points_12m -= fact.amount
        elif fact.kind == "topup":
            self._topups.pop(number, None)

    def scan(self, moment: dt.datetime) -> dict[str, int]:
        """The figures at `moment` from every fact, added up afresh."""
        start = tier_rules.window_start(moment, self.zone)
        figures = dict.fromkeys(tier_rules.KEYS, 0)
        spend_total, points_total = self.spend_before, self.points_before
        sales: dict[int, int] = {}  # sale id -> its total, while in the window and not refunded
        for fact in self.facts:
            if fact.at > moment:
                break
            in_window = (fact.window_at or fact.at) >= start
            if fact.kind == "spend":
                spend_total += fact.amount
                if in_window:
                    figures["spend_12m"] += fact.amount
                    if fact.amount >= 0 and fact.sale_id is not None:
                        sales[fact.sale_id] = fact.amount
                    elif fact.in_full and fact.sale_id is not None:
                        sales.pop(fact.sale_id, None)
            elif fact.kind == "points":
                points_total += fact.amount
                if in_window:
                    figures["points_12m"] += fact.amount
            elif fact.kind == "topup" and in_window:
                figures["single_topup"] = max(figures["single_topup"], fact.amount)
        figures["spend_total"] = spend_total
        figures["points_total"] = points_total
        figures["visits_12m"] = len(sales)
        figures["single_sale"] = max(sales.values(), default=0)
        return figures

    def next_fall(self, after: dt.datetime) -> dt.datetime | None:
        """When the next movement against the figures comes in after `after` (a refund, points
        taken back): they may fall below a keep condition then."""
        if not self.bounds_negative:
            return None
        for fact in self.facts:
            if fact.at > after and fact.amount < 0:
                return fact.at
        return None

    def leaving(self, after: dt.datetime) -> dt.datetime | None:
        """The first moment after `after` at which a fact leaves the rolling window (the
        figures can only fall then); None when none will."""
        if self._moment == after:
            # Read at `after`: the facts still in the window are in the heap, the earliest
            # dated on top; every other fact taken by then has left the window already.
            inside = self._inside
            return self._out_of_window(inside[0][0]) if inside else None
        found = None
        for fact in self.facts:
            if fact.at > after:
                break
            out = self._out_of_window(fact.window_at or fact.at)
            if out > after and (found is None or out < found):
                found = out
        return found

    def _out_of_window(self, moment: dt.datetime) -> dt.datetime:
        """A fact at `moment` is out of the window of every moment whose window starts after
        it: from local midnight of its day a year later (`window_start` of that day is the
        day after it). 29 February: from 1 March."""
        local = moment.astimezone(self.zone).date()
        try:
            year_after = local.replace(year=local.year + 1)
        except ValueError:
            year_after = dt.date(local.year + 1, 3, 1)
        return dt.datetime(year_after.year, year_after.month, year_after.day, tzinfo=self.zone)


def _bounds_of(
    spend_before: int, points_before: int, facts: Iterable[Fact]
) -> tuple[dict[str, int], int]:
    """Upper bounds of a member's figures from these facts, and how many movements went
    against them (refunds, points taken back: left out of the bounds)."""
    bounds = dict.fromkeys(tier_rules.KEYS, 0)
    bounds["spend_12m"] = bounds["spend_total"] = max(spend_before, 0)
    bounds["points_12m"] = bounds["points_total"] = max(points_before, 0)
    negative = 0
    for fact in facts:
        negative += _bound(bounds, fact)
    return bounds, negative


def _bound(bounds: dict[str, int], fact: Fact) -> bool:
    """Raise `bounds` by `fact`; whether it went against the figures instead."""
    amount = fact.amount
    if amount <= 0:
        return amount < 0
    if fact.kind == "spend":
        bounds["spend_12m"] += amount
        bounds["spend_total"] += amount
        bounds["visits_12m"] += 1
        bounds["single_sale"] = max(bounds["single_sale"], amount)
    elif fact.kind == "points":
        bounds["points_12m"] += amount
        bounds["points_total"] += amount
    elif fact.kind == "topup":
        bounds["single_topup"] = max(bounds["single_topup"], amount)
    return False


_WINDOWS: dict[tuple[dt.date, ZoneInfo], dt.datetime] = {}


def _window_start(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """`tier_rules.window_start`, which depends only on the local day: worked out once a day."""
    key = (moment.astimezone(zone).date(), zone)
    start = _WINDOWS.get(key)
    if start is None:
        start = _WINDOWS[key] = tier_rules.window_start(moment, zone)
    return start


def _night_after(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The first review (03:30 local) strictly after `moment`."""
    local = moment.astimezone(zone)
    night = local.replace(hour=REVIEW_HOUR, minute=REVIEW_MINUTE, second=0, microsecond=0)
    if night <= local:
        night += dt.timedelta(days=1)
    return dt.datetime(night.year, night.month, night.day, REVIEW_HOUR, REVIEW_MINUTE, tzinfo=zone)


def _night_at_or_after(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    return _night_after(moment - dt.timedelta(microseconds=1), zone)


# --- one member's tier under one program -----------------------------------------------------


def _start_rule(
    engine: Sequence[tier_rules.TierRule],
    by_code: Mapping[str, tier_rules.TierRule],
    code: str | None,
) -> tier_rules.TierRule | None:
    """The rule of the tier a member starts on: theirs, else the lowest (no tier or unknown)."""
    rule = by_code.get(code) if code else None
    return rule if rule is not None else tier_rules.base_rule(engine)


class _TierWalk:
    """A member's tier under one program as the replay goes forward in time."""

    def __init__(
        self,
        rules: Rules,
        zone: ZoneInfo,
        start_tier: str | None,
        start: dt.datetime,
        floors: Sequence[TierSet] = (),
        quiet: bool = False,
    ) -> None:
        self.rules = rules
        self.engine = list(rules.tiers)
        self.by_code = {rule.code: rule for rule in self.engine}
        self.zone = zone
        self.tier = _start_rule(self.engine, self.by_code, start_tier)
        self.below_since: dt.datetime | None = None
        self.next_night = _night_at_or_after(start, zone)
        self.floors: list[TierSet] = list(floors)
        # Whether a review has run since the tier was last set, and whether the member's
        # figures can only rise at the replay's own sales (no recorded movement after `start`):
        # then a tier without keep_when has nothing more for the nightly review (_quiet_night).
        self.reviewed = False
        self.quiet = quiet
        # (night, from, to, action) of each move the nightly review makes, when a list is
        # given: the bench's builder records its history with them.
        self.noted: list[tuple[dt.datetime, str | None, str | None, str]] | None = None

    @property
    def code(self) -> str | None:
        return self.tier.code if self.tier is not None else None

    @property
    def moves(self) -> bool:
        return len(self.engine) >= 2

    def set(self, change: TierSet) -> None:
        rule = self.by_code.get(change.code) if change.code else None
        if change.floor:
            self.floors.append(change)
        if rule is not None or change.code is None:
            self.tier = rule or tier_rules.base_rule(self.engine)
            self.below_since = None
            self.reviewed = False  # the next night's review may move them back up
            self.touched(change.at)

    def grace_at(
        self, start: dt.datetime, figures: _Figures, since: dt.datetime | None = None
    ) -> dt.datetime | None:
        """The grace period the member is in when the range starts (the nightly reviews before
        it, on the same figures): the first night of the last run of nights below keep, which
        began after the tier was set (`since`) and is at most grace_days long (a longer one
        would have taken the tier already). None when the last night before `start` kept it."""
        tier = self.tier
        if tier is None or tier.rank == 0 or not tier.keep_when:
            return None
        night = self.next_night - dt.timedelta(days=1)  # the last review before `start`
        found = None
        read = figures.at  # forward from here on: the walk's own reads go on from this one
        for _night in range(tier.grace_days + 1):
            if since is not None and night <= since:
                break
            if self.floor_rank(night) >= tier.rank or tier_rules.keeps(tier, read(night)):
                break
            found = night
            night -= dt.timedelta(days=1)
            read = figures.scan  # back in time: added up afresh
        return found

    def floor_rank(self, at: dt.datetime) -> int:
        ranks = [
            self.by_code[f.code].rank
            for f in self.floors
            if f.code in self.by_code and f.at <= at and (f.until is None or at < f.until)
        ]
        return max(ranks, default=0)

    def after_activity(self, figures: _Figures, moment: dt.datetime) -> None:
        """Up to the highest tier the figures earn right after a sale or top-up (the figures
        are only read when some tier above could be reached)."""
        rank = self.tier.rank if self.tier is not None else 0
        if not any(rule.rank > rank and rule.upgrade_when for rule in self.engine):
            if self.below_since is not None:
                self.touched(moment)
            return
        if not tier_rules.could_reach(self.engine, rank, figures.bounds):
            if self.below_since is not None:
                self.touched(moment)
            return
        up = tier_rules.upgrade(self.engine, rank, figures.at(moment))
        if up is not None:
            self.tier = up[0]
            self.touched(moment)
        elif self.below_since is not None:
            self.touched(moment)  # back above keep? the next night says

    def review_until(self, moment: dt.datetime, figures: _Figures) -> None:
        """Run the nightly reviews due up to `moment`, skipping nights that change nothing."""
        if self.next_night > moment:
            return  # no review due yet
        if not self.moves or self._quiet_night(figures):
            self.next_night = _night_after(moment, self.zone)
            return
        while self.next_night <= moment:
            self.reviewed = True
            night = self.next_night
            decision = tier_rules.review(
                self.engine,
                self.tier,
                figures.at(night),
                below_since=self.below_since,
                floor_rank=self.floor_rank(night),
                as_of=night,
            )
            self._decide(decision, night)
            if decision.action in ("upgrade", "downgrade"):
                # On its new tier the member may already be below its keep conditions: the
                # next night's review says (and starts the grace period), as the job would.
                self.next_night = night + dt.timedelta(days=1)
            else:
                self.next_night = self._next_change(night, figures, moment)

    def _quiet_night(self, figures: _Figures) -> bool:
        """Whether no review can move the member now. On a tier without keep_when a review
        can only upgrade: not when even the figures' upper bounds reach no tier above, nor
        after the first review while the figures rise only at the replay's own sales, each
        followed by the upgrade check (between them every figure only falls: a sale and its
        refunds leave the window together, earned points before their reversal)."""
        tier = self.tier
        if self.below_since is not None or not (
            tier is None or tier.rank == 0 or not tier.keep_when
        ):
            return False
        if self.reviewed and self.quiet:
            return True
        rank = tier.rank if tier is not None else 0
        return not tier_rules.could_reach(self.engine, rank, figures.bounds)

    def _decide(self, decision: tier_rules.Decision, night: dt.datetime) -> None:
        if decision.action == "start_grace":
            self.below_since = night
        elif decision.action == "clear_grace":
            self.below_since = None
        elif decision.action in ("upgrade", "downgrade"):
            was = self.code
            self.tier = decision.tier
            self.below_since = None
            if self.noted is not None and self.code != was:
                self.noted.append((night, was, self.code, decision.action))

    def _next_change(
        self, night: dt.datetime, figures: _Figures, moment: dt.datetime
    ) -> dt.datetime:
        """The next night whose review could decide differently; past `moment` when none
        before it can (the next activity reviews again)."""
        following = night + dt.timedelta(days=1)
        tier = self.tier
        if tier is None or tier.rank == 0 or not tier.keep_when:
            return max(following, _night_after(moment, self.zone))
        candidates = [NEVER]
        if self.below_since is not None:
            ends = self.below_since + dt.timedelta(days=tier.grace_days)
            candidates.append(_night_at_or_after(ends, self.zone))
        else:
            # Above keep: only a fact leaving the window or a movement against the figures
            # can take the member below it (a sale only adds; `touched` brings the review
            # forward when one adds a refund or moves the tier).
            for moved in (figures.leaving(night), figures.next_fall(night)):
                if moved is not None:
                    candidates.append(_night_at_or_after(moved, self.zone))
        for change in self.floors:
            if change.until is not None and change.until > night:
                candidates.append(_night_at_or_after(change.until, self.zone))
        return max(following, min(candidates))

    def touched(self, at: dt.datetime) -> None:
        """Something at `at` may change the next review's decision (a sale in a grace period,
        a tier moved, a refund coming in): review the night after it at the latest."""
        self.next_night = min(self.next_night, _night_at_or_after(at, self.zone))


# --- pricing one sale ------------------------------------------------------------------------


def _coupons(sale: SaleRecord, rules: Rules) -> dict[str, pricing.Coupon]:
    found = {}
    for given, use in sale.coupons.items():
        template = rules.templates.get(use.template)
        if template is None:
            continue
        code = pricing.normalize_code(given)
        found[given] = pricing.Coupon(
            code=code,
            promotion=pricing.Promotion(
                code=code,
                kind="coupon",
                benefit=template.benefit,
                condition=template.condition,
                name=template.name,
                stacking=template.stacking,
                priority=template.priority,
            ),
            member_id=str(use.member_id) if use.member_id is not None else None,
            valid_from=use.valid_from,
            valid_until=use.valid_until,
        )
    return found


@dataclass
class Usage:
    """Limited promotions' applications so far in this replay (API.md §11)."""

    sold: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    member: dict[tuple[str, int], int] = field(default_factory=lambda: defaultdict(int))
    day: dict[tuple[str, int, dt.date], int] = field(default_factory=lambda: defaultdict(int))

    def of(
        self, codes: Iterable[str], member_id: int | None, day: dt.date
    ) -> dict[str, pricing.LimitUsage]:
        if member_id is None:
            return {code: pricing.LimitUsage(sold=self.sold[code]) for code in codes}
        return {
            code: pricing.LimitUsage(
                sold=self.sold[code],
                member=self.member[(code, member_id)],
                member_today=self.day[(code, member_id, day)],
            )
            for code in codes
        }

    def take(self, result: pricing.Quote, member_id: int | None, day: dt.date) -> None:
        for applied in result.applied:
            if applied.applications:
                self.count(applied.code, member_id, day, applied.applications)

    def count(self, code: str, member_id: int | None, day: dt.date, units: int) -> None:
        self.sold[code] += units
        if member_id is not None:
            self.member[(code, member_id)] += units
            self.day[(code, member_id, day)] += units

    def copy(self) -> Usage:
        return Usage(
            defaultdict(int, self.sold), defaultdict(int, self.member), defaultdict(int, self.day)
        )


class Pricer:
    """Prices recorded sales under one program, as the till would have priced them.

    A sale without codes or coupons, under a program without limited promotions, prices the
    same whenever its lines, store, buyer kind (member or walk-in), tier, first purchase,
    points, stored value, local weekday and the promotion windows it falls in are the same:
    `quote` reads nothing else then. Such quotes are kept and handed out again (a Quote is
    frozen), which is most of a replay's sales."""

    def __init__(self, rules: Rules, usage: Usage | None = None) -> None:
        self.rules = rules
        self.zone = ZoneInfo(rules.program.timezone)
        self.limited = tuple(p.code for p in rules.program.promotions if p.limits is not None)
        self.usage = usage if usage is not None else Usage()
        edges = _window_edges(rules.program)
        self.edges = edges or []
        self.quotes: dict[tuple[object, ...], tuple[object, pricing.Quote]] | None = (
            {} if edges is not None and not self.limited else None
        )

    def price(
        self, sale: SaleRecord, tier: str | None, lines: tuple[pricing.Line, ...] | None = None
    ) -> pricing.Quote:
        """`sale` priced at `tier`, with `lines` instead of its own when given."""
        lines = sale.lines if lines is None else lines
        quotes = self.quotes
        if quotes is None or sale.codes or sale.coupons:
            return self._quote(sale, tier, lines)
        at = sale.at
        key = (
            id(lines),  # the very tuple (kept with its quote: its id is not reused meanwhile)
            sale.store,
            sale.member_id is None,
            tier,
            sale.first_purchase,
            sale.points_to_redeem,
            sale.stored_value,
            at.astimezone(self.zone).isoweekday(),
            bisect.bisect_right(self.edges, at) if self.edges else 0,
        )
        found = quotes.get(key)
        if found is None or found[0] is not lines:
            found = quotes[key] = (lines, self._quote(sale, tier, lines))
        return found[1]

    def _quote(
        self, sale: SaleRecord, tier: str | None, lines: tuple[pricing.Line, ...]
    ) -> pricing.Quote:
        member_id = str(sale.member_id) if sale.member_id is not None else None
        day = sale.at.astimezone(self.zone).date()
        usage = self.usage.of(self.limited, sale.member_id, day) if self.limited else {}
        context = pricing.MemberContext(
            member_id=member_id,
            tier=tier,
            points_available=sale.points_to_redeem,
            stored_value=sale.stored_value,
            first_purchase=sale.first_purchase,
            coupons=_coupons(sale, self.rules) if sale.coupons else {},
            usage=usage,
        )
        basket = pricing.Basket(
            store=sale.store,
            lines=lines,
            codes=sale.codes,
            points_to_redeem=sale.points_to_redeem,
            stored_value=sale.stored_value,
        )
        result = pricing.quote(basket, context, self.rules.program, sale.at)
        if self.limited:
            self.usage.take(result, sale.member_id, day)
        return result


def _window_edges(program: pricing.Program) -> list[dt.datetime] | None:
    """The moments at which a promotion starts or ends, in order: two sales between the same
    edges see the same promotions open. None when an edge has no time zone (`quote` then
    fails as it always did, so nothing is kept)."""
    edges = set()
    for promotion in program.promotions:
        for edge in (promotion.condition.starts_at, promotion.condition.ends_at):
            if edge is None:
                continue
            if edge.tzinfo is None or edge.utcoffset() is None:
                return None
            edges.add(edge)
    return sorted(edges)


# --- the walk --------------------------------------------------------------------------------


def _month(moment: dt.datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return _MONTHS.get((local.year, local.month)) or _month_name(local)


_MONTHS: dict[tuple[int, int], str] = {}


def _month_name(local: dt.datetime) -> str:
    name = _MONTHS[(local.year, local.month)] = local.strftime("%Y-%m")
    return name


def _record(
    outcome: Outcome,
    result: pricing.Quote,
    sale: SaleRecord,
    zone: ZoneInfo,
    month: str | None = None,
) -> None:
    outcome.totals.add(result)
    outcome.by_month[month or _month(sale.at, zone)].add(result)
    outcome.by_store[sale.store].add(result)
    for applied in result.applied:
        if applied.amount:
            outcome.by_promotion[_promotion_code(applied, sale)] += applied.amount
    recorded = sale.recorded
    earned = recorded.points_earned if recorded else 0
    redeemed = recorded.points_redeemed if recorded else 0
    outcome.points_delta += (result.points_earned - earned) - (result.points_redeemed - redeemed)
    refunds = sale.refunds
    if refunds:
        reversed_now = sum(
            _scaled(r.points_reversed, result.points_earned, earned) for r in refunds
        )
        reversed_then = sum(r.points_reversed for r in refunds)
        outcome.points_delta -= reversed_now - reversed_then


def _promotion_code(applied: pricing.Applied, sale: SaleRecord) -> str:
    """Coupons count under their template's code (one figure per kind of coupon)."""
    if applied.kind == "coupon":
        for given, use in sale.coupons.items():
            if pricing.normalize_code(given) == applied.code:
                return use.template
    return applied.code


def _scaled(amount: int, now: int, then: int) -> int:
    """A recorded refund's share of the sale, applied to the replayed figure."""
    if not amount or then <= 0:
        return 0
    return min(now, div_round_half_up(amount * now, then))


def compare(sale: SaleRecord, result: pricing.Quote) -> list[Difference]:
    if sale.recorded is None:
        return []
    return [
        Difference(sale.id, name, getattr(sale.recorded, name), getattr(result, name))
        for name in RECORDED_FIELDS
        if getattr(sale.recorded, name) != getattr(result, name)
    ]


class _MemberWalk:
    """One member's sales replayed under one program, tiers moving as that program says."""

    def __init__(
        self,
        history: MemberHistory,
        rules: Rules,
        start: dt.datetime,
        bounds: tuple[dict[str, int], int] | None = None,
    ) -> None:
        zone = ZoneInfo(rules.program.timezone)
        given, negative = bounds if bounds is not None else ({}, 0)
        self.figures = _Figures(
            zone,
            history.spend_before,
            history.points_before,
            list(history.facts),
            dict(given),
            negative,
        )
        quiet = not history.facts or history.facts[-1].at < start  # the facts are in time order
        self.tiers = _TierWalk(rules, zone, history.start_tier, start, history.floors, quiet)
        self.tiers.below_since = self.tiers.grace_at(start, self.figures, history.tier_since)

    def before_sale(self, sale: SaleRecord, sets: list[TierSet]) -> None:
        self._until(sale.clock, sets)

    def after_sale(self, sale: SaleRecord, result: pricing.Quote) -> None:
        if sale.imported:
            return  # imported history earns no tier (cards.tiers.facts)
        recorded_total = sale.recorded.total if sale.recorded else result.total
        earned_then = sale.recorded.points_earned if sale.recorded else result.points_earned
        clock = sale.clock
        self.figures.add(Fact("spend", clock, result.total, window_at=sale.at, sale_id=sale.id))
        if result.points_earned:
            self.figures.add(Fact("points", clock, result.points_earned, window_at=sale.at))
        for refund in sale.refunds:
            back = _scaled(refund.amount, result.total, recorded_total)
            self.figures.add(
                Fact(
                    "spend",
                    refund.at,
                    -back,
                    window_at=sale.at,
                    sale_id=sale.id,
                    in_full=refund.in_full,
                )
            )
            taken = _scaled(refund.points_reversed, result.points_earned, earned_then)
            if taken:
                self.figures.add(Fact("points", refund.at, -taken, window_at=refund.at))
            self.tiers.touched(refund.at)
        self.tiers.after_activity(self.figures, clock)

    def finish(self, end: dt.datetime, sets: list[TierSet]) -> str | None:
        self._until(end, sets)
        return self.tiers.code

    def _until(self, moment: dt.datetime, sets: list[TierSet]) -> None:
        """Reviews, top-ups and tiers set otherwise, in time order, up to `moment`."""
        while sets and sets[0].at <= moment:
            change = sets.pop(0)
            self.tiers.review_until(change.at, self.figures)
            if change.activity:
                self.tiers.after_activity(self.figures, change.at)
            else:
                self.tiers.set(change)
        self.tiers.review_until(moment, self.figures)


def idle_tiers(
    idle: Mapping[str | None, int], rules: Rules, start: dt.datetime, end: dt.datetime
) -> dict[str | None, int]:
    """Where members with no figure, sale or set end up: one walk per starting tier (their
    nightly reviews see the same empty figures), counted for all of them."""
    zone = ZoneInfo(rules.program.timezone)
    ends: dict[str | None, int] = defaultdict(int)
    for tier, count in idle.items():
        tiers = _TierWalk(rules, zone, tier, start)
        nothing = _Figures(zone, 0, 0, [])
        tiers.below_since = tiers.grace_at(start, nothing)
        tiers.review_until(end, nothing)
        ends[tiers.code] += count
    return dict(ends)


def walk(
    members: Sequence[MemberHistory],
    walk_ins: Sequence[SaleRecord],
    current: Rules,
    draft: Rules,
    start: dt.datetime,
    end: dt.datetime,
    *,
    usage: Usage | None = None,
    limit_differences: int = 1000,
) -> Part:
    """Replay every sale under both programs in the order the till took them (limited
    promotions count across members in that order); each member's tier moves as each
    program's rules say. `start`/`end` bound the range (reviews run through `end`)."""
    part = Part()
    zone = ZoneInfo(current.program.timezone)
    seed = usage or Usage()
    pricers = (Pricer(current, seed.copy()), Pricer(draft, seed.copy()))
    given = _GivenLines(current.program)
    outcomes = (part.current, part.draft)
    walkers = {history.member_id: _Walker(history, current, draft, start) for history in members}
    for sale in _in_order(members, walk_ins):
        walker = walkers.get(sale.member_id) if sale.member_id is not None else None
        lines = sale.lines
        if walker is not None:
            walker.before_sale(sale)
            lines = given.of(sale, walker.walks[0].tiers.code)
        month = _month(sale.at, zone)
        for index in (0, 1):
            tier = walker.walks[index].tiers.code if walker is not None else None
            result = pricers[index].price(sale, tier, lines)
            _record(outcomes[index], result, sale, zone, month)
            if walker is not None:
                walker.walks[index].after_sale(sale, result)
            if index == 0:
                _check(part, sale, result, limit_differences)
    for member_id, walker in walkers.items():
        for index in (0, 1):
            outcomes[index].end_tiers[member_id] = walker.finish(index, end)
    return part


class _GivenLines:
    """A member's sale's lines as the till gave them (`_given`), worked out once per basket and
    tier (many sales share both)."""

    def __init__(self, program: pricing.Program) -> None:
        self.program = program
        self.found: dict[tuple[int, str | None], tuple[object, tuple[pricing.Line, ...]]] = {}

    def of(self, sale: SaleRecord, tier_code: str | None) -> tuple[pricing.Line, ...]:
        if sale.member_id is None:
            return sale.lines
        key = (id(sale.lines), tier_code)  # the very tuple, kept beside what it gives
        found = self.found.get(key)
        if found is None or found[0] is not sale.lines:
            found = self.found[key] = (sale.lines, _given(sale.lines, self.program, tier_code))
        return found[1]


def _in_order(members: Sequence[MemberHistory], walk_ins: Sequence[SaleRecord]) -> list[SaleRecord]:
    everything = [sale for history in members for sale in history.sales]
    everything.extend(walk_ins)
    everything.sort(key=lambda sale: (sale.clock, sale.id))
    return everything


class _Walker:
    """One member under both programs: a walk each, and the tier sets still to come."""

    def __init__(
        self, history: MemberHistory, current: Rules, draft: Rules, start: dt.datetime
    ) -> None:
        bounds = _bounds_of(history.spend_before, history.points_before, history.facts)
        upper = _upper_bounds(bounds[0], history)
        self.walks = (
            self._walk(history, current, start, bounds, upper),
            self._walk(history, draft, start, bounds, upper),
        )
        self.pending = (list(history.sets), list(history.sets))

    @staticmethod
    def _walk(
        history: MemberHistory,
        rules: Rules,
        start: dt.datetime,
        bounds: tuple[dict[str, int], int],
        upper: Mapping[str, int],
    ) -> _MemberWalk | _FixedTier:
        fixed, code = _fixed_tier(history, rules, upper)
        return _FixedTier(code) if fixed else _MemberWalk(history, rules, start, bounds)

    def before_sale(self, sale: SaleRecord) -> None:
        for index in (0, 1):
            self.walks[index].before_sale(sale, self.pending[index])

    def finish(self, index: int, end: dt.datetime) -> str | None:
        return self.walks[index].finish(end, self.pending[index])


class _FixedTier:
    """A member whose tier cannot move under a program in the range (`_fixed_tier`): no
    figures are kept for them, their tier is the one they start on."""

    def __init__(self, code: str | None) -> None:
        self.code = code
        self.tiers = self  # read as a _MemberWalk's `tiers.code`

    def before_sale(self, sale: SaleRecord, sets: list[TierSet]) -> None:
        pass

    def after_sale(self, sale: SaleRecord, result: pricing.Quote) -> None:
        pass

    def finish(self, end: dt.datetime, sets: list[TierSet]) -> str | None:
        return self.code


_UNBOUNDED = 1 << 62


def _upper_bounds(bounds: Mapping[str, int], history: MemberHistory) -> dict[str, int]:
    """Upper bounds of the figures through the range: the recorded facts', plus each replayed
    sale at its lines' full price (no program prices a sale above it: discounts are never
    negative). What a sale earns in points has no bound (multipliers)."""
    upper = dict(bounds)
    for sale in history.sales:
        if sale.imported:
            continue  # imported history earns no tier
        full = sum(line.unit_price * line.quantity for line in sale.lines)
        upper["spend_12m"] += full
        upper["spend_total"] += full
        upper["visits_12m"] += 1
        upper["single_sale"] = max(upper["single_sale"], full)
        upper["points_12m"] = upper["points_total"] = _UNBOUNDED
    return upper


def _fixed_tier(
    history: MemberHistory, rules: Rules, upper: Mapping[str, int]
) -> tuple[bool, str | None]:
    """Whether nothing in the range can move the member's tier under `rules` (no tier set or
    top-up or paid floor, a start tier without keep conditions, no tier above it within reach
    of the figures' upper bounds), and that tier's code."""
    if history.sets or history.floors:
        return False, None
    engine = rules.tiers
    tier = _start_rule(engine, {rule.code: rule for rule in engine}, history.start_tier)
    if tier is None:
        return True, None
    if len(engine) < 2:
        return True, tier.code
    if tier.rank > 0 and tier.keep_when:
        return False, None
    return not tier_rules.could_reach(engine, tier.rank, upper), tier.code


def _given(
    lines: tuple[pricing.Line, ...], program: pricing.Program, tier_code: str | None
) -> tuple[pricing.Line, ...]:
    """`lines` with each member price as the till gave it; the very tuple when nothing
    changes. Sales keep the price a member paid per unit, not what the till asked for: a price
    below what the tier gave (under the current program, at the sale's tier) was the till's
    own or an agreement unit's, and stays; one equal to the tier's came from the tier, and
    each program gives its own."""
    if all(line.member_price is None for line in lines):
        return lines
    tier = _tier_of(program, tier_code)
    discount: Mapping[str, int] = tier.discount if tier is not None else {}
    given_lines = []
    changed = False
    for line in lines:
        given = line.member_price
        if given is not None and line.category in discount:
            tier_price = div_round_half_up(line.unit_price * discount[line.category], 100)
            if given >= tier_price:
                given = None
        if given == line.member_price:
            given_lines.append(line)
        else:
            given_lines.append(replace(line, member_price=given))
            changed = True
    return tuple(given_lines) if changed else lines


def _tier_of(program: pricing.Program, code: str | None) -> pricing.Tier | None:
    if not program.tiers:
        return None
    for tier in program.tiers:
        if tier.code == code:
            return tier
    return min(program.tiers, key=lambda tier: tier.rank)


# A sale's recorded figures, or a quote's, as one tuple (compared in one go).
_as_recorded = attrgetter(*RECORDED_FIELDS)


def _check(part: Part, sale: SaleRecord, result: pricing.Quote, limit: int) -> None:
    if sale.imported or sale.recorded is None:
        return
    part.compared += 1
    if _as_recorded(sale.recorded) == _as_recorded(result):
        return  # the usual case: no difference to list
    found = compare(sale, result)
    if found:
        part.differing_sales += 1
        room = limit - len(part.differences)
        if room > 0:
            part.differences.extend(found[:room])
