"""Stored value rules: top-up bonus tables and how a payment splits principal and bonus."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from patron.engine.money import allocate

SplitRule = Literal["proportional", "principal_first", "bonus_first"]


@dataclass(frozen=True)
class BonusRow:
    min: int
    bonus: int


def topup_bonus(amount: int, table: Sequence[BonusRow]) -> int:
    """Bonus fen for a top-up of `amount` fen: the row with the highest `min` <= amount."""
    eligible = [row for row in table if row.min <= amount]
    if not eligible:
        return 0
    return max(eligible, key=lambda row: row.min).bonus


def split_payment(
    amount: int, principal: int, bonus: int, rule: SplitRule = "proportional"
) -> tuple[int, int]:
    """(from principal, from bonus) for paying `amount` out of the two balances.

    Proportional keeps the ratio of the balances, so a later card refund (principal only)
    is fair; the split is exact in fen and never takes more than either balance holds.
    """
    if amount < 0 or principal < 0 or bonus < 0:
        raise ValueError("amounts must be non-negative")
    if amount > principal + bonus:
        raise ValueError("amount exceeds the stored value")
    if rule == "principal_first":
        from_principal = min(amount, principal)
        return from_principal, amount - from_principal
    if rule == "bonus_first":
        from_bonus = min(amount, bonus)
        return amount - from_bonus, from_bonus
    if rule != "proportional":
        raise ValueError(f"unknown split rule {rule!r}")
    from_principal, from_bonus = allocate(amount, [principal, bonus])
    return from_principal, from_bonus
