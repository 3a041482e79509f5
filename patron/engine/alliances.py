"""Alliance arithmetic (F-42): points converted at an agreed rate, what they are worth, and the
monthly clearing statement between the two merchants. Pure: integers in, integers out.

An alliance's rate reads "`points` of the proposer's points = `partner_points` of the
partner's". A member of the proposer moving points to the partner converts them by
points -> points * partner_points / rate.points; a member of the partner the other way by the
inverse. Only numbers that convert to a whole number are accepted: the valid numbers are the
multiples of a step (the rate's side divided by the greatest common divisor of both sides), and a
refusal names the nearest valid numbers below and above.

The merchant whose member took points out owes the other the value of the points issued there,
at the alliance's agreed value (`amount` fen for every `points` points), rounded half-up to the
fen once per exchange; a month's statement adds the exchanges' values up, so its figures are
the sum of the exchanges a merchant can drill into.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from math import gcd

from patron.engine.money import div_round_half_up

TO_PARTNER = "to_partner"  # the proposer's member moves points to the partner
TO_PROPOSER = "to_proposer"  # the partner's member moves points to the proposer
DIRECTIONS = (TO_PARTNER, TO_PROPOSER)
PROPOSER = "proposer"
PARTNER = "partner"


@dataclass(frozen=True)
class Rate:
    """`points` of the proposer's points are worth `partner_points` of the partner's."""

    points: int
    partner_points: int

    def __post_init__(self) -> None:
        if self.points <= 0 or self.partner_points <= 0:
            raise ValueError("both sides of a rate are positive whole numbers")

    def sides(self, direction: str) -> tuple[int, int]:
        """(points given, points received) for one unit of the rate in `direction`."""
        if direction == TO_PARTNER:
            return self.points, self.partner_points
        if direction == TO_PROPOSER:
            return self.partner_points, self.points
        raise ValueError(f"unknown direction {direction!r}")

    def step(self, direction: str) -> int:
        """The smallest number of points that converts to a whole number in `direction`."""
        given, received = self.sides(direction)
        return given // gcd(given, received)


@dataclass(frozen=True)
class PointValue:
    """`amount` fen for every `points` points (the default: a point is worth a fen)."""

    points: int = 100
    amount: int = 100

    def __post_init__(self) -> None:
        if self.points <= 0 or self.amount < 0:
            raise ValueError("a value is a positive number of points for zero or more fen")


class NotWhole(ValueError):
    """`points` does not convert to a whole number; `below` and `above` are the nearest that
    do (`below` is 0 when no positive number below converts)."""

    def __init__(self, points: int, below: int, above: int) -> None:
        super().__init__(f"{points} points do not convert to a whole number")
        self.points, self.below, self.above = points, below, above


def convert(rate: Rate, direction: str, points: int) -> int:
    """The points received for `points` given in `direction`; NotWhole when not whole."""
    if points <= 0:
        raise ValueError("points to convert are positive")
    given, received = rate.sides(direction)
    whole, left = divmod(points * received, given)
    if left:
        step = rate.step(direction)
        below = points // step * step
        raise NotWhole(points, below, below + step)
    return whole


def value_of(value: PointValue, points: int) -> int:
    """What `points` points are worth, in fen, half-up to the fen."""
    return div_round_half_up(points * value.amount, value.points)


@dataclass(frozen=True)
class Exchange:
    direction: str
    points_out: int
    points_in: int
    amount: int  # fen owed for it (value_of the points issued)


@dataclass(frozen=True)
class StatementRow:
    """Points moved one way in the month; `source` owes `destination` the `amount`."""

    source: str  # PROPOSER or PARTNER: whose members took points out
    destination: str
    points_out: int
    points_in: int
    amount: int
    exchanges: int


@dataclass(frozen=True)
class Statement:
    rows: tuple[StatementRow, ...]
    net: dict[str, int]  # by side: + receives, - pays; sums to zero
    payer: str | None  # None when neither owes the other
    payee: str | None
    amount: int


def statement(exchanges: Iterable[Exchange]) -> Statement:
    """The clearing statement of a month's exchanges: one row per direction (both always shown),
    each side's net, and who pays whom how much."""
    totals = {direction: [0, 0, 0, 0] for direction in DIRECTIONS}
    for exchange in exchanges:
        into = totals[exchange.direction]
        into[0] += exchange.points_out
        into[1] += exchange.points_in
        into[2] += exchange.amount
        into[3] += 1
    rows = []
    for direction, (points_out, points_in, amount, count) in totals.items():
        source, destination = (
            (PROPOSER, PARTNER) if direction == TO_PARTNER else (PARTNER, PROPOSER)
        )
        rows.append(StatementRow(source, destination, points_out, points_in, amount, count))
    owed_to_partner = totals[TO_PARTNER][2] - totals[TO_PROPOSER][2]
    net = {PROPOSER: -owed_to_partner, PARTNER: owed_to_partner}
    if owed_to_partner > 0:
        payer, payee = PROPOSER, PARTNER
    elif owed_to_partner < 0:
        payer, payee = PARTNER, PROPOSER
    else:
        payer = payee = None
    return Statement(tuple(rows), net, payer, payee, abs(owed_to_partner))
