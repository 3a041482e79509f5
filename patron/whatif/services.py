"""What if (API.md §13): a draft program replayed over the merchant's recorded sales.

`simulate` reads the range's history once (`history.read`), builds both programs as plain
values (`rules`), walks the members in worker processes when there are many sales
(`replay.walk` on a share of the members each; the engine is the till's own) and sums the
figures. Nothing is written: the draft is applied inside a transaction that is rolled back.
"""

from __future__ import annotations

import datetime as dt
import gc
import multiprocessing
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from patron.core.dates import start_of_day
from patron.core.errors import FieldError, ValidationFailed
from patron.tenancy.actor import Actor
from patron.tenancy.models import Store
from patron.whatif import history as history_reads
from patron.whatif import replay
from patron.whatif import rules as program_rules

SHORT_RANGE_DAYS = 31  # the API answers these at once (200), longer ones as a job (202)
PARALLEL_FROM = 20_000  # sales: fewer are replayed in this process
DIFFERENCES_KEPT = 1000
WORKERS_VARIABLE = "PATRON_WHATIF_WORKERS"
FIGURES = (
    "revenue",
    "discount",
    "member_discount",
    "points_earned",
    "points_redeemed",
    "points_liability_fen",
)


# --- the question ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """A checked request: the range as instants (end exclusive) and the store, if one."""

    first: dt.date
    last: dt.date
    start: dt.datetime
    end: dt.datetime
    store: Store | None

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def _day(value: Any, name: str, errors: list[FieldError]) -> dt.date | None:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors.append(FieldError(name, _("Enter a date as YYYY-MM-DD.")))
        return None


def question(actor: Actor, first: Any, last: Any, store: str | None = None) -> Question:
    """Check the range and the store: every problem at once, as field errors."""
    errors: list[FieldError] = []
    day_from, day_to = _day(first, "from", errors), _day(last, "to", errors)
    zone = ZoneInfo(actor.merchant.timezone)
    today = timezone.now().astimezone(zone).date()
    if day_from and day_to and day_to < day_from:
        errors.append(FieldError("to", _("The range ends before it starts.")))
    for name, day in (("from", day_from), ("to", day_to)):
        if day is not None and day > today:
            errors.append(
                FieldError(
                    name,
                    _("%(day)s is in the future: only recorded sales replay.")
                    % {"day": day.isoformat()},
                )
            )
    found = None
    if store not in (None, ""):
        found = Store.objects.filter(merchant=actor.merchant, code=str(store)).first()
        if found is None:
            errors.append(FieldError("store", _("No store with code %(code)s.") % {"code": store}))
    if errors:
        raise ValidationFailed(errors)
    assert day_from is not None and day_to is not None
    start = start_of_day(day_from, zone)
    end = start_of_day(day_to + dt.timedelta(days=1), zone)
    return Question(day_from, day_to, start, end, found)


# --- the answer ------------------------------------------------------------------------------


@dataclass
class Side:
    """One program's figures, in the contract's shape (`as_dict`) and per month and store."""

    figures: dict[str, Any]
    months: dict[str, replay.Totals]
    stores: dict[str, replay.Totals]
    tiers: dict[int, str | None]


@dataclass
class Result:
    sales: int
    current: Side
    draft: Side
    compared: int = 0
    differing_sales: int = 0
    differences: list[replay.Difference] = field(default_factory=list)
    imported: int = 0
    changes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The contract (API.md §13): sales, current, draft, diff = draft - current."""
        return {
            "sales": self.sales,
            "current": self.current.figures,
            "draft": self.draft.figures,
            "diff": difference(self.current.figures, self.draft.figures),
        }

    @property
    def faithful(self) -> bool:
        return self.differing_sales == 0

    def faithful_line(self) -> str:
        """Whether replaying the current program gave what was recorded, in one sentence."""
        if not self.compared:
            return _("No sale recorded by Patron in the range to check the replay against.")
        if self.faithful:
            return ngettext(
                "The current program replayed %(n)d recorded sale exactly as recorded, to the fen.",
                "The current program replayed all %(n)d recorded sales exactly as recorded, "
                "to the fen.",
                self.compared,
            ) % {"n": self.compared}
        return ngettext(
            "%(bad)d of %(n)d recorded sale prices differently under the current program "
            "(a promotion or tier edited since?).",
            "%(bad)d of %(n)d recorded sales price differently under the current program "
            "(a promotion or tier edited since?).",
            self.compared,
        ) % {"bad": self.differing_sales, "n": self.compared}

    def tier_moves(self) -> list[tuple[int, str | None, str | None]]:
        """Members whose tier at the end differs: (member id, current, draft)."""
        return sorted(
            (member_id, code, self.draft.tiers.get(member_id))
            for member_id, code in self.current.tiers.items()
            if self.draft.tiers.get(member_id) != code
        )


def difference(current: Mapping[str, Any], draft: Mapping[str, Any]) -> dict[str, Any]:
    diff: dict[str, Any] = {name: draft[name] - current[name] for name in FIGURES}
    for name in ("by_promotion", "by_tier"):
        codes = sorted(set(current[name]) | set(draft[name]))
        diff[name] = {code: draft[name].get(code, 0) - current[name].get(code, 0) for code in codes}
    return diff


def _figures(
    outcome: replay.Outcome,
    rules: replay.Rules,
    idle: Mapping[str | None, int],
    points_outstanding: int,
) -> dict[str, Any]:
    totals = outcome.totals
    points = max(points_outstanding + outcome.points_delta, 0)
    tiers: Counter[str | None] = Counter(outcome.end_tiers.values())
    tiers.update(idle)
    by_tier = {rule.code: tiers.get(rule.code, 0) for rule in sorted(rules.tiers, key=_rank)}
    return {
        "revenue": totals.revenue,
        "discount": totals.discount,
        "member_discount": totals.member_discount,
        "points_earned": totals.points_earned,
        "points_redeemed": totals.points_redeemed,
        "points_liability_fen": rules.points_value(points),
        "by_promotion": dict(sorted(outcome.by_promotion.items())),
        "by_tier": by_tier,
    }


def _rank(rule: Any) -> tuple[int, str]:
    return rule.rank, rule.code


# --- the replay ------------------------------------------------------------------------------


def simulate(
    actor: Actor, document: dict[str, Any], asked: Question, *, workers: int | None = None
) -> Result:
    """Replay the range under the current program and under `document` (a program file)."""
    draft, changes = program_rules.draft_rules(actor, document)
    current = program_rules.current_rules(actor.merchant)
    grace = max(
        (rule.grace_days for rules in (current, draft) for rule in rules.tiers if rule.keep_when),
        default=0,
    )
    found = history_reads.read(actor.merchant, asked.start, asked.end, asked.store, grace)
    part = _walk(found, current, draft, asked, workers)
    sides = []
    for rules, outcome in ((current, part.current), (draft, part.draft)):
        idle = replay.idle_tiers(found.idle, rules, asked.start, asked.end)
        sides.append(
            Side(
                figures=_figures(outcome, rules, idle, found.points_outstanding),
                months=dict(sorted(outcome.by_month.items())),
                stores=dict(sorted(outcome.by_store.items())),
                tiers=outcome.end_tiers,
            )
        )
    return Result(
        sales=found.sales,
        current=sides[0],
        draft=sides[1],
        compared=part.compared,
        differing_sales=part.differing_sales,
        differences=part.differences,
        imported=found.imported,
        changes=[str(change) for change in changes],
    )


# Set before the worker processes start (fork): they read their share from here.
_shared: tuple | None = None


def worker_count(sales: int, requested: int | None = None) -> int:
    if requested is not None:
        return max(1, requested)
    configured = os.environ.get(WORKERS_VARIABLE, "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    if sales < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return max(1, os.cpu_count() or 1)


def _needs_one_order(current: replay.Rules, draft: replay.Rules) -> bool:
    """A promotion limited in all (`total`) is counted across members in time order."""
    return any(
        promotion.limits is not None and promotion.limits.total is not None
        for rules in (current, draft)
        for promotion in rules.program.promotions
    )


def _walk(
    found: history_reads.History,
    current: replay.Rules,
    draft: replay.Rules,
    asked: Question,
    workers: int | None,
) -> replay.Part:
    with history_reads.without_cyclic_gc():
        return _walk_in(found, current, draft, asked, workers)


def _walk_in(
    found: history_reads.History,
    current: replay.Rules,
    draft: replay.Rules,
    asked: Question,
    workers: int | None,
) -> replay.Part:
    count = worker_count(found.sales, workers)
    if count == 1 or _needs_one_order(current, draft):
        return replay.walk(
            found.members,
            found.walk_ins,
            current,
            draft,
            asked.start,
            asked.end,
            usage=found.usage,
            limit_differences=DIFFERENCES_KEPT,
        )
    global _shared
    _shared = (
        found.members,
        found.walk_ins,
        current,
        draft,
        asked.start,
        asked.end,
        found.usage,
        count,
    )
    # The history moves to the collector's permanent generation before the fork: the workers
    # (forked with the collector off) then never write to its pages, which stay shared.
    gc.freeze()
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(count) as pool:
            parts = pool.map(_walk_share, range(count))
    finally:
        _shared = None
        gc.unfreeze()
    total = replay.Part()
    for part in parts:
        total.merge(part)
    total.differences = total.differences[:DIFFERENCES_KEPT]
    return total


def _walk_share(index: int) -> replay.Part:
    assert _shared is not None
    members, walk_ins, current, draft, start, end, usage, count = _shared
    return replay.walk(
        members[index::count],
        walk_ins[index::count],
        current,
        draft,
        start,
        end,
        usage=usage,
        limit_differences=DIFFERENCES_KEPT,
    )
