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


def allocate(total: int, weights: Sequence[int], ranks: Sequence[int] | None = None) -> list[int]:
    """Split `total` over `weights` proportionally so the parts add up to `total` exactly.

    Largest-remainder method: every part is floor(total * w / sum(w)); the fen left over go to
    the largest remainders, ties to the lowest rank (`ranks[i]`, default the position), so the
    result is deterministic. Pricing ranks lines by their content, not their position, so
    scanning the same basket in another order never moves a fen between lines.
    """
    count = len(weights)
    if total < 0 or (count and min(weights) < 0):
        raise ValueError("allocate takes non-negative amounts")
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total:
            raise ValueError("cannot allocate a positive total over zero weights")
        return [0] * count
    if count == 1:  # the common one-line case: total * w // w, nothing left over
        return [total]
    parts = [total * w // weight_sum for w in weights]
    leftover = total - sum(parts)
    if leftover == 0:
        return parts
    tie = ranks if ranks is not None else range(count)
    # Tuples sort without a key function: (-remainder, rank, index), largest remainder first.
    keys = [-(total * w % weight_sum) for w in weights]
    order = sorted(zip(keys, tie, range(count), strict=True))
    for _remainder, _rank, index in order[:leftover]:
        parts[index] += 1
    return parts
