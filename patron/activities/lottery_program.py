"""The `lotteries` program section (API.md §11).

```yaml
lotteries:
  - {code: wheel, name: 幸运转盘, cost_points: 100, daily_limit: 3, budget: 50000,
     prizes: [{code: p50, kind: points, points: 500, value: 500, odds: 10},
              {code: c20, kind: coupon, coupon: c20, value: 2000, odds: 5},
              {code: none, kind: none, odds: 85}]}
```
A lottery must have a budget (fen of prize value, > 0); its prizes' odds (percent, up to four
decimals) must add up to exactly 100; a coupon prize names a coupon template, known when the
file is applied (it may come in the same file). A lottery left out is ended (draws kept).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from pydantic import Field

from patron.activities import lottery as services
from patron.activities.models import Lottery, PrizeKind
from patron.core.errors import FieldError, ValidationFailed
from patron.engine import lottery as rules
from patron.program.fields import (
    MAX_COUNT,
    Code,
    Count,
    End,
    Name,
    OneOf,
    PositiveFen,
    Scalar,
    Start,
    Whole,
)
from patron.program.schema import CodedList, ProgramModel, Refusal, mappings, repeats
from patron.program.services import Change, Plan
from patron.promotions.models import CouponTemplate
from patron.promotions.program import Zone, window_problems
from patron.tenancy.actor import Actor

SECTION = "lotteries"
Points = Annotated[int, Whole(0, MAX_COUNT)]
Stock = Annotated[int, Whole(0, MAX_COUNT)]
Value = Annotated[int, Whole(0, 10**12)]


@dataclass(frozen=True, eq=False)
class OddsPercent(Scalar):
    """Odds in percent: 10, 2.5 or 0.0125 (at most four decimals), from 0 to 100."""

    def convert(self, value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError
        if rules.odds_millionths(value) is None:
            raise ValueError
        return Decimal(str(value))

    def message(self, value: Any) -> str:
        return _("Odds in percent from 0 to 100, with at most four decimals (e.g. 2.5).")

    def json_schema(self) -> dict[str, Any]:
        return {"type": "number", "minimum": 0, "maximum": 100}


Odds = Annotated[Decimal, OddsPercent()]


class PrizeRow(ProgramModel):
    """One prize: what it gives, what it costs the budget (`value`, fen) and its odds."""

    code: Code
    name: Name = None
    kind: Annotated[str, OneOf(tuple(PrizeKind.values))]
    points: Annotated[int, Whole(1, MAX_COUNT)] = None
    coupon: Code = None
    value: Value = None
    odds: Odds
    stock: Stock = None

    @classmethod
    def problems(cls, value: Any) -> Iterator[Refusal]:
        if not isinstance(value, dict):
            return
        kind = value.get("kind")
        if kind == "points" and "points" not in value:
            yield ("points",), _("A points prize says how many points it gives.")
        if kind == "coupon" and "coupon" not in value:
            yield ("coupon",), _("A coupon prize names a coupon template.")
        if kind != "points" and "points" in value:
            yield ("points",), _("Only a points prize gives points.")
        if kind != "coupon" and "coupon" in value:
            yield ("coupon",), _("Only a coupon prize names a coupon template.")
        if kind == "none" and value.get("value"):
            yield ("value",), _("A prize of nothing costs nothing: leave value out.")

    def cleaned(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "kind": self.kind,
            "points": self.points,
            "coupon": self.coupon,
            "value": self.value or 0,
            "odds": self.odds,
            "stock": self.stock,
        }


class LotteryRow(ProgramModel):
    """A lottery: cost in points, draws per member per day, budget in fen, prizes."""

    code: Code
    name: Name
    cost_points: Points = 0
    daily_limit: Count = None
    budget: PositiveFen
    prizes: Annotated[list[PrizeRow], Field(min_length=1)]
    starts_at: Start = None
    ends_at: End = None

    @classmethod
    def problems(cls, value: Any) -> Iterator[Refusal]:
        if not isinstance(value, dict):
            return
        yield from window_problems(value, "starts_at", "ends_at")
        prizes = value.get("prizes")
        codes = ((i, p.get("code")) for i, p in mappings(prizes) if isinstance(p.get("code"), str))
        for index, code in repeats(codes):
            yield ("prizes", index, "code"), _("Duplicate code %s.") % code
        if not isinstance(prizes, list) or not prizes:
            return
        found = [
            rules.odds_millionths(p.get("odds")) if isinstance(p, dict) else None for p in prizes
        ]
        if None in found:
            return  # the bad odds are reported where they are
        if sum(found) != rules.SCALE:
            total = Decimal(sum(found)) / rules.PER_PERCENT
            yield (
                ("prizes",),
                _("The odds add up to %s%%: they must add up to exactly 100%%.")
                % (f"{total.normalize():f}"),
            )

    def cleaned(self, path: str) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "cost_points": self.cost_points or 0,
            "daily_limit": self.daily_limit,
            "budget": self.budget,
            "prizes": [prize.cleaned() for prize in self.prizes],
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "path": path,
        }


class Lotteries(CodedList[LotteryRow]):
    """The merchant's lotteries; one left out is ended (its draws stay for audit)."""

    def cleaned(self) -> list[dict[str, Any]]:
        return [row.cleaned(f"{SECTION}[{index}]") for index, row in enumerate(self.root)]


# --- plan and export ------------------------------------------------------------------------


def _check_coupons(actor: Actor, rows: list[dict[str, Any]], plan: Plan) -> None:
    """Coupon templates named must exist when the plan runs: in the file or already active."""
    known = set(
        CouponTemplate.objects.filter(merchant=actor.merchant, is_active=True).values_list(
            "code", flat=True
        )
    )
    section = [c for c in plan.changes if c.section == "coupon_templates"]
    known |= {c.key for c in section if c.op != "end"}
    known -= {c.key for c in section if c.op == "end"}
    errors = [
        FieldError(f"{row['path']}.prizes[{index}].coupon", _("Unknown coupon template %s.") % p)
        for row in rows
        for index, p in enumerate(prize["coupon"] for prize in row["prizes"])
        if p and p not in known
    ]
    if errors:
        raise ValidationFailed(errors)


def _number(odds: Decimal) -> int | float:
    return int(odds) if odds == odds.to_integral_value() else float(odds)


def _moment(moment: dt.datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).isoformat() if moment else None


def _exported(row: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """A lottery as the file writes it: keys without a value left out."""
    shown: dict[str, Any] = {"code": row["code"], "name": row["name"]}
    shown["cost_points"] = row["cost_points"]
    if row["daily_limit"] is not None:
        shown["daily_limit"] = row["daily_limit"]
    shown["budget"] = row["budget"]
    prizes = []
    for prize in row["prizes"]:
        item: dict[str, Any] = {"code": prize["code"]}
        if prize.get("name"):
            item["name"] = prize["name"]
        item["kind"] = prize["kind"]
        if prize.get("points"):
            item["points"] = prize["points"]
        if prize.get("coupon"):
            item["coupon"] = prize["coupon"]
        if prize.get("value"):
            item["value"] = prize["value"]
        item["odds"] = _number(Decimal(str(prize["odds"])))
        if prize.get("stock") is not None:
            item["stock"] = prize["stock"]
        prizes.append(item)
    shown["prizes"] = prizes
    for key in ("starts_at", "ends_at"):
        if row.get(key):
            shown[key] = _moment(row[key], zone)
    return shown


def _stored(lottery: Lottery) -> dict[str, Any]:
    prizes = [
        {
            "code": p.code,
            "name": p.name,
            "kind": p.kind,
            "points": p.points,
            "coupon": p.coupon,
            "value": p.value,
            "odds": p.odds,
            "stock": p.stock,
        }
        for p in lottery.prizes.filter(is_active=True).order_by("position", "pk")
    ]
    return {
        "code": lottery.code,
        "name": lottery.name,
        "cost_points": lottery.cost_points,
        "daily_limit": lottery.daily_limit,
        "budget": lottery.budget,
        "prizes": prizes,
        "starts_at": lottery.starts_at,
        "ends_at": lottery.ends_at,
    }


def plan_lotteries(actor: Actor, rows: list[dict[str, Any]], plan: Plan) -> None:
    _check_coupons(actor, rows, plan)
    zone = Zone(actor)
    wanted = []
    for row in rows:
        start, end = zone.window(row["starts_at"], row["ends_at"], f"{row['path']}.ends_at")
        wanted.append({**row, "starts_at": start, "ends_at": end})
    zone.raise_errors()
    current = {lot.code: lot for lot in Lottery.objects.filter(merchant=actor.merchant)}
    for row in wanted:
        lottery = current.get(row["code"])
        new = _exported(row, zone.zone)
        if lottery is not None and lottery.is_active:
            old = _exported(_stored(lottery), zone.zone)
            if old == new:
                continue
            keys = [key for key in new.keys() | old.keys() if new.get(key) != old.get(key)]
            detail = ", ".join(f"{key}: {old.get(key)!r} -> {new.get(key)!r}" for key in keys)
            plan.changes.append(Change(SECTION, "change", row["code"], detail))
        elif lottery is not None:
            plan.changes.append(Change(SECTION, "change", row["code"], _("(reactivated)")))
        else:
            plan.changes.append(Change(SECTION, "add", row["code"], row["name"]))
        plan.steps.append(lambda row=row: services.save_lottery(actor.merchant, row))
    listed = {row["code"] for row in rows}
    for code, lottery in current.items():
        if code not in listed and lottery.is_active:
            plan.changes.append(Change(SECTION, "end", code, _("(ended, history kept)")))
            plan.steps.append(lambda lottery=lottery: services.end_lottery(lottery))


def export_lotteries(actor: Actor) -> list[dict[str, Any]]:
    zone = ZoneInfo(actor.merchant.timezone)
    found = Lottery.objects.filter(merchant=actor.merchant, is_active=True).order_by("code")
    return [_exported(_stored(lottery), zone) for lottery in found]
