"""The `commissions` program section (API.md §12; docs/network.md "Staff commissions").

```yaml
commissions:
  per_card: 800                          # fen for each card sold
  per_topup: {every: 50000, amount: 800} # fen for each whole `every` of one top-up
  ladder:                                # the month's recruits: the highest step reached pays
    - {members: 3, bonus: 3000}
    - {members: 6, bonus: 8000}
```
A file without the section leaves the rules as they are; an empty mapping turns them off.
Ladder steps ascend in both members and bonus, each members count once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _

from patron.engine.commissions import ladder_problems
from patron.network.models import CommissionPolicy
from patron.program.fields import Count, Fen, PositiveFen
from patron.program.schema import ItemList, ProgramModel, Refusal, mappings
from patron.program.services import Plan, register_section
from patron.tenancy.actor import Actor


class PerTopup(ProgramModel):
    """`amount` fen for each whole `every` fen of one top-up's principal."""

    every: PositiveFen
    amount: Fen


class LadderStep(ProgramModel):
    """`members` recruited in the month (or more) pays `bonus` fen."""

    members: Count
    bonus: Fen


class Ladder(ItemList[LadderStep]):
    @classmethod
    def problems(cls, value: Any) -> Iterator[Refusal]:
        rows = [
            (index, item.get("members"), item.get("bonus"))
            for index, item in mappings(value)
            if _whole(item.get("members")) and _whole(item.get("bonus"))
        ]
        messages = {
            "repeat": _("Two ladder steps for %(members)s members."),
            "members_order": _("Steps go up in members: %(members)s is not above the step before."),
            "bonus_order": _("Steps go up in bonus: a bigger step pays more than the one before."),
        }
        found = ladder_problems([(members, bonus) for _index, members, bonus in rows])
        for position, field, problem in found:
            index, members, _bonus = rows[position]
            yield (index, field), messages[problem] % {"members": members}


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class Commissions(ProgramModel):
    per_card: Fen = None
    per_topup: PerTopup = None
    ladder: Ladder = None

    def cleaned(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if self.per_card is not None:
            found["per_card"] = self.per_card
        if self.per_topup is not None:
            found["per_topup"] = self.per_topup.model_dump()
        if self.ladder is not None and self.ladder.root:
            found["ladder"] = [step.model_dump() for step in self.ladder.root]
        return found


def rules_of(merchant_id: int) -> dict[str, Any]:
    """The merchant's rules as applied ({} when none)."""
    found = CommissionPolicy.objects.filter(merchant_id=merchant_id).first()
    return dict(found.rules) if found else {}


def plan_commissions(actor: Actor, cleaned: dict[str, Any], plan: Plan) -> None:
    plan.settings(
        "commissions",
        rules_of(actor.merchant.pk),
        cleaned,
        lambda: CommissionPolicy.objects.update_or_create(
            merchant=actor.merchant, defaults={"rules": cleaned}
        ),
    )


def export_commissions(actor: Actor) -> dict[str, Any]:
    return rules_of(actor.merchant.pk)


def register() -> None:
    register_section("commissions", Commissions, plan_commissions, export_commissions)
