"""The lottery's draw rule (API.md §11): a seed picks a prize, the same seed always the same one.

A seed is hashed (SHA-256) into a ticket in [0, 10^6); the prizes' odds, in millionths, are laid
end to end in their listed order and the ticket falls into one of them. Anyone holding the seed
and the odds can replay a draw: nothing depends on Python's random generator or its version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

SCALE = 1_000_000  # tickets per draw: odds are kept in millionths (percent with 4 decimals)
PER_PERCENT = SCALE // 100


def ticket(seed: str) -> int:
    """The number in [0, SCALE) a seed stands for."""
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    # 2^64 is not a multiple of 10^6: the bias this leaves is below 10^-13, far beneath odds.
    return int.from_bytes(digest[:8], "big") % SCALE


def odds_millionths(percent: Decimal | int | float | str) -> int | None:
    """Odds in percent (10, 2.5, "0.0125") as millionths of draws; None when not a number
    from 0 to 100 with at most four decimals."""
    if isinstance(percent, bool):
        return None
    try:
        value = Decimal(str(percent)) * PER_PERCENT
    except InvalidOperation:
        return None
    if not value.is_finite() or value != value.to_integral_value() or not 0 <= value <= SCALE:
        return None
    return int(value)


def pick(prizes: Sequence[tuple[str, int]], number: int) -> str:
    """The prize whose share of [0, SCALE) holds `number`; shares are (code, millionths) in
    order and must add up to SCALE."""
    total = sum(share for _code, share in prizes)
    if total != SCALE:
        raise ValueError(f"odds add up to {total} millionths, not {SCALE}")
    if not 0 <= number < SCALE:
        raise ValueError("number outside [0, SCALE)")
    reached = 0
    for code, share in prizes:
        reached += share
        if number < reached:
            return code
    raise AssertionError("unreachable: the shares cover [0, SCALE)")


def draw(prizes: Sequence[tuple[str, int]], seed: str) -> str:
    """The prize code `seed` draws from `prizes` ((code, millionths) in order)."""
    return pick(prizes, ticket(seed))
