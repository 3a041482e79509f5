"""Tiers that move (F-10, F-11): which tier a member's figures earn, keep or lose.

Pure rules: plain dataclasses in, a decision out, `as_of` as an argument. The figures of a
member (`Facts`: spend in fen, points, visits, the largest single top-up or sale) are read by
the caller; docs/tiers.md says how each one is counted and what the rolling 12 months are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

# The keys of `upgrade_when` / `keep_when`, in the order they are shown.
KEYS = (
    "spend_12m",
    "spend_total",
    "points_12m",
    "points_total",
    "single_topup",
    "single_sale",
    "visits_12m",
)
# Reached by one transaction, not added up: what is "missing" is the whole amount.
SINGLE_KEYS = frozenset({"single_topup", "single_sale"})

Facts = Mapping[str, int]


@dataclass(frozen=True)
class TierRule:
    code: str
    rank: int
    upgrade_when: Mapping[str, int] = field(default_factory=dict)
    keep_when: Mapping[str, int] = field(default_factory=dict)
    grace_days: int = 30


@dataclass(frozen=True)
class Decision:
    """What a review does to one member.

    `action`: "upgrade" / "downgrade" (to `tier`), "start_grace" (below every keep condition
    from now), "clear_grace" (back above), or "none". `detail`: the figures that moved it.
    """

    action: str
    tier: TierRule | None = None
    detail: Mapping[str, int] = field(default_factory=dict)


NOTHING = Decision("none")


def window_start(as_of: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    """The start of the rolling 12 months that end at `as_of`: local midnight of the day
    after the same date a year earlier (29 February: of 1 March), in `zone`."""
    day = as_of.astimezone(zone).date()
    try:
        year_before = day.replace(year=day.year - 1)
    except ValueError:  # 29 February has no date a year before
        year_before = dt.date(day.year - 1, 2, 28)
    first = year_before + dt.timedelta(days=1)
    return dt.datetime(first.year, first.month, first.day, tzinfo=zone)


def reached(conditions: Mapping[str, int], facts: Facts) -> dict[str, int]:
    """The conditions met by the figures: {key: the member's figure}."""
    return {
        key: facts.get(key, 0)
        for key, threshold in conditions.items()
        if facts.get(key, 0) >= threshold
    }


def ordered(rules: Sequence[TierRule]) -> list[TierRule]:
    return sorted(rules, key=lambda rule: rule.rank)


def base_rule(rules: Sequence[TierRule]) -> TierRule | None:
    for rule in ordered(rules):
        if rule.rank == 0:
            return rule
    return None


def earned(rules: Sequence[TierRule], facts: Facts) -> tuple[TierRule | None, dict[str, int]]:
    """The highest tier whose `upgrade_when` the figures meet (else rank 0), and what met it."""
    for rule in reversed(ordered(rules)):
        if rule.rank > 0 and rule.upgrade_when:
            met = reached(rule.upgrade_when, facts)
            if met:
                return rule, met
    return base_rule(rules), {}


def upgrade(
    rules: Sequence[TierRule], current_rank: int, facts: Facts
) -> tuple[TierRule, dict[str, int]] | None:
    """The tier above `current_rank` the figures earn (the highest one), with what met it."""
    rule, met = earned(rules, facts)
    if rule is None or rule.rank <= current_rank:
        return None
    return rule, met


def keeps(rule: TierRule, facts: Facts) -> bool:
    """A tier without `keep_when` is kept for good; else any one condition keeps it."""
    return not rule.keep_when or bool(reached(rule.keep_when, facts))


def one_below(rules: Sequence[TierRule], rank: int) -> TierRule | None:
    below = [rule for rule in rules if rule.rank < rank]
    return max(below, key=lambda rule: rule.rank) if below else None


def review(
    rules: Sequence[TierRule],
    current: TierRule | None,
    facts: Facts,
    *,
    below_since: dt.datetime | None,
    floor_rank: int,
    as_of: dt.datetime,
) -> Decision:
    """The nightly review of one member on `current` (None: rank 0).

    Upgrades first. Else `keep_when`: below every condition starts a grace period; still
    below `grace_days` after it began drops exactly one rank; back above clears it. Never
    below `floor_rank` (the tier of an active paid membership).
    """
    current_rank = current.rank if current is not None else 0
    up = upgrade(rules, current_rank, facts)
    if up is not None:
        return Decision("upgrade", up[0], up[1])
    if current is None or current.rank == 0 or current_rank <= floor_rank:
        return Decision("clear_grace") if below_since is not None else NOTHING
    if keeps(current, facts):
        return Decision("clear_grace") if below_since is not None else NOTHING
    if below_since is None:
        return Decision("start_grace")
    if as_of - below_since < dt.timedelta(days=current.grace_days):
        return NOTHING
    target = one_below(rules, current_rank)
    if target is None or target.rank < floor_rank:
        return NOTHING
    shown = {key: facts.get(key, 0) for key in current.keep_when}
    return Decision("downgrade", target, shown)


def next_rule(rules: Sequence[TierRule], current_rank: int) -> TierRule | None:
    """The nearest tier above `current_rank` that figures can reach (one with upgrade_when)."""
    for rule in ordered(rules):
        if rule.rank > current_rank and rule.upgrade_when:
            return rule
    return None


def missing(rule: TierRule, facts: Facts) -> dict[str, int]:
    """How far the figures are from each of `rule`'s upgrade conditions: added-up figures by
    the difference, a single top-up or sale by the whole amount it takes."""
    gaps = {}
    for key in KEYS:
        if key not in rule.upgrade_when:
            continue
        threshold, have = rule.upgrade_when[key], facts.get(key, 0)
        if have >= threshold:
            continue
        gaps[key] = threshold if key in SINGLE_KEYS else threshold - have
    return gaps


def could_reach(rules: Sequence[TierRule], current_rank: int, bounds: Facts) -> bool:
    """Whether figures no higher than `bounds` (upper bounds of the member's figures: lifetime
    spend for `spend_12m`, …) could meet any upgrade condition of a tier above `current_rank`.
    A key missing from `bounds` is taken as reachable."""
    for rule in rules:
        if rule.rank <= current_rank:
            continue
        for key, threshold in rule.upgrade_when.items():
            if key not in bounds or bounds[key] >= threshold:
                return True
    return False


def rule_problems(rules: Sequence[TierRule]) -> list[tuple[int, str, str, int]]:
    """Rules that overlap or form no order, as (index, part, key, the other tier's index):
    part "upgrade_when" — not above a lower tier's threshold for the same key;
    part "keep_when" — above the tier's own upgrade threshold for the same key;
    part "rank0" — the rank-0 tier has a condition (key: upgrade_when or keep_when)."""
    found: list[tuple[int, str, str, int]] = []
    indexed = sorted(enumerate(rules), key=lambda pair: pair[1].rank)
    for index, rule in indexed:
        if rule.rank == 0:
            for part in ("upgrade_when", "keep_when"):
                if getattr(rule, part):
                    found.append((index, "rank0", part, index))
            continue
        for key, threshold in rule.upgrade_when.items():
            for other_index, other in indexed:
                lower = other.upgrade_when.get(key)
                if 0 < other.rank < rule.rank and lower is not None and threshold <= lower:
                    found.append((index, "upgrade_when", key, other_index))
                    break
        for key, keep in rule.keep_when.items():
            if key in rule.upgrade_when and keep > rule.upgrade_when[key]:
                found.append((index, "keep_when", key, index))
    return found
