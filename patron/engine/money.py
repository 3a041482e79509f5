"""Integer money arithmetic: the one place where fen are rounded."""

from __future__ import annotations

from collections.abc import Sequence


def div_round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, in integers only."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    quotient, remainder = divmod(abs(numerator), denominator)
    if remainder * 2 >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` over `weights` proportionally so the parts add up to `total` exactly.

    Largest-remainder method: every part is floor(total * w / sum(w)); the fen left over go to
    the largest remainders, ties to the earliest weight, so the result is deterministic.
    """
    if total < 0 or any(w < 0 for w in weights):
        raise ValueError("allocate takes non-negative amounts")
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total:
            raise ValueError("cannot allocate a positive total over zero weights")
        return [0] * len(weights)
    parts = [total * w // weight_sum for w in weights]
    remainders = [total * w % weight_sum for w in weights]
    leftover = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for index in order[:leftover]:
        parts[index] += 1
    return parts
