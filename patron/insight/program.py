"""The `insight` program section (API.md §2, §8): the lifecycle thresholds (F-30).

```yaml
insight:
  lifecycle: {default_cycle_days: 30, min_cycle_days: 7, min_visits: 3,
              excited: 0.5, active: 1.5, inert: 3.0, dormant_after_days: 365}
```

A key left out takes its default; a file without the section leaves the thresholds as they
are (the defaults until a file names them). How the stages are worked out and why these
defaults: docs/lifecycle-rfm.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Annotated, Any

from django.utils.translation import gettext as _

from patron.insight.models import InsightPolicy
from patron.program.fields import Scalar, Whole
from patron.program.schema import ProgramModel, Refusal
from patron.program.services import Change, Plan, register_section
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant

RATIOS = ("excited", "active", "inert")


@dataclass(frozen=True)
class LifecyclePolicy:
    """Recency divided by the member's cycle, against `excited` <= `active` <= `inert`."""

    default_cycle_days: float = 30.0  # the cycle of members with fewer than min_visits days
    min_cycle_days: float = 7.0  # floor: a daily regular is not dormant after four days
    min_visits: int = 3  # purchase days before a member's own cycle is trusted
    excited: float = 0.5
    active: float = 1.5
    inert: float = 3.0
    dormant_after_days: int = 365  # no purchase for longer: dormant whatever the cycle

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULTS = LifecyclePolicy()
KEYS = tuple(DEFAULTS.as_dict())


@dataclass(frozen=True, eq=False)
class Positive(Scalar):
    """A number (whole or decimal) greater than `low` (or equal with `inclusive`) and at
    most `high`: ratios and days."""

    low: float
    high: float
    inclusive: bool = False

    def convert(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError
        if not math.isfinite(value) or value > self.high:
            raise ValueError
        if value < self.low or (value == self.low and not self.inclusive):
            raise ValueError
        return float(value)

    def message(self, value: Any) -> str:
        if self.inclusive:
            text = _("A number from %(low)g to %(high)g.")
        else:
            text = _("A number greater than %(low)g and at most %(high)g.")
        return text % {"low": self.low, "high": self.high}

    def json_schema(self) -> dict[str, Any]:
        low = "minimum" if self.inclusive else "exclusiveMinimum"
        return {"type": "number", low: self.low, "maximum": self.high}


RATIO = Positive(0, 100)
CYCLE_DAYS = Positive(0, 3650)
FLOOR_DAYS = Positive(0, 365, inclusive=True)
Ratio = Annotated[float, RATIO]
CycleDays = Annotated[float, CYCLE_DAYS]
FloorDays = Annotated[float, FLOOR_DAYS]


class Lifecycle(ProgramModel):
    """When a member is excited, active, inert or dormant: their days since the last purchase
    divided by their own purchase cycle (or `default_cycle_days` below `min_visits` days of
    purchases), at most `excited`, `active`, `inert`; beyond, or after `dormant_after_days`
    without a purchase, dormant."""

    default_cycle_days: CycleDays = None
    min_cycle_days: FloorDays = None
    min_visits: Annotated[int, Whole(2, 1000)] = None
    excited: Ratio = None
    active: Ratio = None
    inert: Ratio = None
    dormant_after_days: Annotated[int, Whole(1, 36500)] = None

    @classmethod
    def problems(cls, value: Any) -> Iterator[Refusal]:
        if not isinstance(value, dict):
            return
        # Compared only when both are valid (a bad value has its own error already).
        merged = {**DEFAULTS.as_dict(), **value}
        for lower, upper in (("excited", "active"), ("active", "inert")):
            low, high = RATIO.parse(merged.get(lower)), RATIO.parse(merged.get(upper))
            if low is not None and high is not None and low >= high:
                field = upper if upper in value else lower
                yield (
                    (field,),
                    _("%(upper)s (%(high)g) must be greater than %(lower)s (%(low)g).")
                    % {"upper": upper, "high": high, "lower": lower, "low": low},
                )
        floor = FLOOR_DAYS.parse(merged.get("min_cycle_days"))
        cycle = CYCLE_DAYS.parse(merged.get("default_cycle_days"))
        if floor is not None and cycle is not None and floor > cycle:
            field = "min_cycle_days" if "min_cycle_days" in value else "default_cycle_days"
            yield (
                (field,),
                _("min_cycle_days (%(floor)g) may not exceed default_cycle_days (%(cycle)g).")
                % {"floor": floor, "cycle": cycle},
            )

    def cleaned(self) -> dict[str, Any]:
        return {**DEFAULTS.as_dict(), **self.given()}


class Insight(ProgramModel):
    """What insight is told by the merchant (the lifecycle thresholds)."""

    lifecycle: Lifecycle = None

    def cleaned(self) -> dict[str, Any]:
        return {"lifecycle": (self.lifecycle or Lifecycle()).cleaned()}


def stored_policy(merchant: Merchant | int) -> LifecyclePolicy:
    """The merchant's thresholds (the defaults when no file named them)."""
    merchant_id = merchant if isinstance(merchant, int) else merchant.pk
    row = InsightPolicy.objects.filter(merchant_id=merchant_id).values(*KEYS).first()
    return LifecyclePolicy(**row) if row else DEFAULTS


def export_insight(actor: Actor) -> dict[str, Any]:
    policy = stored_policy(actor.merchant).as_dict()
    # Whole numbers stay whole in the file (30, not 30.0) so a round trip reads the same.
    return {"lifecycle": {key: _plain(value) for key, value in policy.items()}}


def _plain(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def plan_insight(actor: Actor, cleaned: dict[str, Any], plan: Plan) -> None:
    wanted = cleaned["lifecycle"]
    current = stored_policy(actor.merchant).as_dict()
    for key in KEYS:
        if current[key] != wanted[key]:
            plan.changes.append(
                Change(
                    "insight",
                    "change",
                    f"lifecycle.{key}",
                    f"{_plain(current[key])!r} -> {_plain(wanted[key])!r}",
                )
            )
    if current != wanted:
        plan.steps.append(lambda: save_policy(actor.merchant, LifecyclePolicy(**wanted)))


def save_policy(merchant: Merchant, policy: LifecyclePolicy) -> None:
    InsightPolicy.objects.update_or_create(merchant=merchant, defaults=policy.as_dict())


def register() -> None:
    register_section("insight", Insight, plan_insight, export_insight)
