"""Staff commissions (API.md §12, F-44): what one staff earns in one month.

Rules, as the program's `commissions` section has them:
`{per_card: 800, per_topup: {every: 50000, amount: 800}, ladder: [{members: 3, bonus: 3000},
{members: 6, bonus: 8000}]}` — 8 yuan a card sold; 8 yuan for every whole 500 yuan of each
top-up ("一次性储值500元奖励8元，以此类推": 1,000 yuan is 2 steps, 499 yuan none); the ladder
pays the bonus of the highest step the month's recruits reach (steps do not add up).

Facts are what the staff did in the month (cards sold, each top-up's principal, members
recruited); the caller decides what counts. Integer fen throughout, no Django.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Step:
    """A ladder step: `members` recruited in the month or more pays `bonus` fen."""

    members: int
    bonus: int


@dataclass(frozen=True)
class Rules:
    per_card: int = 0
    topup_every: int = 0  # 0: no top-up commission
    topup_amount: int = 0
    ladder: tuple[Step, ...] = ()


@dataclass(frozen=True)
class Facts:
    cards: int = 0
    topups: tuple[int, ...] = ()  # each top-up's principal, fen
    recruited: int = 0


@dataclass(frozen=True)
class Commission:
    cards: int
    topup_amount: int
    recruited: int
    card_amount: int
    topup_commission: int
    ladder_bonus: int
    amount: int


def rules_from(section: Mapping[str, Any] | None) -> Rules:
    """Rules from the program section's cleaned mapping (missing parts pay nothing)."""
    if not section:
        return Rules()
    per_topup = section.get("per_topup") or {}
    ladder = section.get("ladder") or []
    steps = tuple(Step(int(row["members"]), int(row["bonus"])) for row in ladder)
    return Rules(
        per_card=int(section.get("per_card") or 0),
        topup_every=int(per_topup.get("every") or 0),
        topup_amount=int(per_topup.get("amount") or 0),
        ladder=tuple(sorted(steps, key=lambda step: step.members)),
    )


def topup_commission(rules: Rules, principal: int) -> int:
    """One top-up's commission: `amount` per whole `every` (a remainder earns nothing)."""
    if rules.topup_every <= 0 or principal <= 0:
        return 0
    return (principal // rules.topup_every) * rules.topup_amount


def ladder_bonus(ladder: Sequence[Step], recruited: int) -> int:
    """The bonus of the highest step reached (not a sum); 0 below the first step."""
    best = 0
    reached = -1
    for step in ladder:
        if recruited >= step.members and step.members > reached:
            reached = step.members
            best = step.bonus
    return best


def commission(rules: Rules, facts: Facts) -> Commission:
    card_amount = rules.per_card * facts.cards
    topups = sum(topup_commission(rules, principal) for principal in facts.topups)
    bonus = ladder_bonus(rules.ladder, facts.recruited)
    return Commission(
        cards=facts.cards,
        topup_amount=sum(facts.topups),
        recruited=facts.recruited,
        card_amount=card_amount,
        topup_commission=topups,
        ladder_bonus=bonus,
        amount=card_amount + topups + bonus,
    )


def ladder_problems(steps: Iterable[tuple[int, int]]) -> list[tuple[int, str, str]]:
    """(index, field, problem) for a ladder given in file order: a `members` count seen
    before ("repeat"), or a step not above the one before it in members or in bonus
    ("members_order" / "bonus_order")."""
    found: list[tuple[int, str, str]] = []
    seen: set[int] = set()
    previous: tuple[int, int] | None = None
    for index, (members, bonus) in enumerate(steps):
        if members in seen:
            found.append((index, "members", "repeat"))
        elif previous is not None and members <= previous[0]:
            found.append((index, "members", "members_order"))
        elif previous is not None and bonus <= previous[1]:
            found.append((index, "bonus", "bonus_order"))
        seen.add(members)
        previous = (members, bonus)
    return found
