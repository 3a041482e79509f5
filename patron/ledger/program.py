"""Program-file sections owned by the ledger: `points`, `topup_bonus`, `stored_value`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from django.db import transaction
from django.utils.translation import gettext as _

from patron.ledger.models import DEFAULT_POINTS_POLICY, TOPUP_CEILING, LedgerPolicy
from patron.program.fields import Category, OneOf, Whole
from patron.program.schema import ItemList, ProgramModel, Refusal, mappings, repeats, tagged_union
from patron.tenancy.actor import Actor

SPLIT_RULES = tuple(LedgerPolicy.Split.values)
TOPUP_MIN = Whole(1, 10**10)


class Earn(ProgramModel):
    """`points` earned for every `per_amount` fen paid."""

    per_amount: Annotated[int, Whole(1, 10**9)]
    points: Annotated[int, Whole(0, 10**6)]


class RedeemCash(ProgramModel):
    """`points` pay `value` fen, for at most `max_share_percent` of a sale."""

    points: Annotated[int, Whole(1, 10**9)]
    value: Annotated[int, Whole(1, 10**9)]
    max_share_percent: Annotated[int, Whole(0, 100)] = 100


class EndOfNextYear(ProgramModel):
    """Points expire at the end of the year after the one they were earned in."""

    policy: Literal["end_of_next_year"]


class RollingDays(ProgramModel):
    """Points expire `days` after they were earned."""

    policy: Literal["rolling_days"]
    days: Annotated[int, Whole(1, 36500)]


class Never(ProgramModel):
    """Points never expire."""

    policy: Literal["never"]


Expiry = tagged_union("policy", EndOfNextYear, RollingDays, Never)


class Points(ProgramModel):
    """How points are earned, spent and expire; a key left out takes its default."""

    earn: Earn = None
    earn_exclude_categories: list[Category] = None
    redeem_cash: RedeemCash = None
    expiry: Expiry = None
    pending_days: Annotated[int, Whole(0, 365)] = None

    def cleaned(self) -> dict[str, Any]:
        return self.given()


class TopupRow(ProgramModel):
    """A top-up of at least `min` fen gets `bonus` fen more (the highest row that fits)."""

    min: Annotated[int, TOPUP_MIN]
    bonus: Annotated[int, Whole(0, 10**10)]


class TopupBonus(ItemList[TopupRow]):
    """Bonus stored value for top-ups."""

    @classmethod
    def problems(cls, value: Any) -> Iterator[Refusal]:
        lows = ((index, TOPUP_MIN.parse(row.get("min"))) for index, row in mappings(value))
        for index, _low in repeats(lows):
            yield (index, "min"), _("Two rows with the same minimum.")

    def cleaned(self) -> list[dict[str, int]]:
        return sorted((row.given() for row in self.root), key=lambda row: row["min"])


class StoredValue(ProgramModel):
    """Stored-value rules: how a payment splits principal and bonus, the largest top-up."""

    payment_split: Annotated[str, OneOf(SPLIT_RULES)] = None
    max_topup: Annotated[int, Whole(1, TOPUP_CEILING)] = None

    def cleaned(self) -> dict[str, Any]:
        return self.given()


def _policy(actor: Actor) -> LedgerPolicy:
    return LedgerPolicy.objects.filter(merchant=actor.merchant).first() or LedgerPolicy(
        merchant=actor.merchant, points={}, topup_bonus=[]
    )


def _save(actor: Actor, **fields: Any) -> None:
    with transaction.atomic():
        policy = _policy(actor)
        for name, value in fields.items():
            setattr(policy, name, value)
        policy.save()


def plan_points(actor: Actor, cleaned: dict[str, Any], plan) -> None:
    from patron.program.services import Change

    # The section replaces the current one: keys left out fall back to the defaults.
    wanted = {**DEFAULT_POINTS_POLICY, **cleaned}
    current = _policy(actor).points_policy()
    for key in DEFAULT_POINTS_POLICY:
        if current.get(key) != wanted.get(key):
            plan.changes.append(
                Change("points", "change", key, f"{current.get(key)!r} -> {wanted.get(key)!r}")
            )
    if current != wanted:
        plan.steps.append(lambda: _save(actor, points=wanted))


def plan_topup_bonus(actor: Actor, rows: list[dict[str, int]], plan) -> None:
    from patron.program.services import Change

    current = sorted(_policy(actor).topup_bonus or [], key=lambda row: row["min"])
    if current != rows:
        before = {row["min"]: row["bonus"] for row in current}
        after = {row["min"]: row["bonus"] for row in rows}
        for low in sorted(set(before) | set(after)):
            if low not in before:
                plan.changes.append(Change("topup_bonus", "add", str(low), f"bonus {after[low]}"))
            elif low not in after:
                plan.changes.append(Change("topup_bonus", "end", str(low)))
            elif before[low] != after[low]:
                plan.changes.append(
                    Change(
                        "topup_bonus", "change", str(low), f"bonus {before[low]} -> {after[low]}"
                    )
                )
        plan.steps.append(lambda: _save(actor, topup_bonus=rows))


def plan_stored_value(actor: Actor, cleaned: dict[str, Any], plan) -> None:
    from patron.program.services import Change

    policy = _policy(actor)
    wanted = {
        "payment_split": cleaned.get("payment_split", LedgerPolicy.Split.PROPORTIONAL),
        "max_topup": cleaned.get("max_topup", 5_000_000),
    }
    changed = {k: v for k, v in wanted.items() if getattr(policy, k) != v}
    for key, value in changed.items():
        plan.changes.append(
            Change("stored_value", "change", key, f"{getattr(policy, key)!r} -> {value!r}")
        )
    if changed:
        plan.steps.append(lambda: _save(actor, **changed))


def export_points(actor: Actor) -> dict[str, Any]:
    return _policy(actor).points_policy()


def export_topup_bonus(actor: Actor) -> list[dict[str, int]]:
    return sorted(_policy(actor).topup_bonus or [], key=lambda row: row["min"])


def export_stored_value(actor: Actor) -> dict[str, Any]:
    policy = _policy(actor)
    return {"payment_split": policy.payment_split, "max_topup": policy.max_topup}


def register() -> None:
    from patron.program.services import register_section

    register_section("points", Points, plan_points, export_points)
    register_section("topup_bonus", TopupBonus, plan_topup_bonus, export_topup_bonus)
    register_section("stored_value", StoredValue, plan_stored_value, export_stored_value)
