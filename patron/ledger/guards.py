"""Checks that must pass before a member's points or stored value are spent.

Every spending path (a sale paid with stored value or points, a points-mall redemption, the
till, the API) ends in `pay_stored_value` or `spend_points`, so a check run there holds
everywhere. Apps above register theirs from their AppConfig.ready(): cards refuses members
whose card is reported lost (409 `card_lost`, API.md §7). A guard raises a DomainError.
Quotes call `check_may_spend` too, so the till says so before the sale is tried.
"""

from __future__ import annotations

from collections.abc import Callable

SpendGuard = Callable[[int, int], None]  # (merchant_id, member_id)

_guards: list[SpendGuard] = []


def add_spend_guard(guard: SpendGuard) -> None:
    if guard not in _guards:
        _guards.append(guard)


def check_may_spend(merchant_id: int, member_id: int) -> None:
    for guard in _guards:
        guard(merchant_id, member_id)
