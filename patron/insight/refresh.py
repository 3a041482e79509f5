"""`patron insight refresh`: recompute what insight knows about a merchant's members, in order.

Each part registers its step from `InsightConfig.ready()` (stats first, then lifecycle and RFM
which read them, then value); the nightly job and the command run the same steps.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from patron.tenancy.models import Merchant

# step(merchant, as_of) -> a one-line summary of what it did (printed by the command)
StepFn = Callable[[Merchant, dt.datetime], str]


@dataclass(frozen=True)
class Step:
    name: str
    order: int
    run: StepFn


@dataclass
class Report:
    merchant: str
    as_of: dt.datetime
    lines: list[tuple[str, str, float]] = field(default_factory=list)  # (step, summary, s)


_steps: dict[str, Step] = {}


def add_step(name: str, order: int, run: StepFn) -> None:
    _steps[name] = Step(name, order, run)


def steps() -> list[Step]:
    return sorted(_steps.values(), key=lambda s: (s.order, s.name))


def refresh(merchant: Merchant, as_of: dt.datetime) -> Report:
    report = Report(merchant.slug, as_of)
    for step in steps():
        started = time.perf_counter()
        summary = step.run(merchant, as_of)
        report.lines.append((step.name, summary, time.perf_counter() - started))
    return report
