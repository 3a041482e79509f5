"""Points rules: when a lot expires, how much a purchase earns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

ExpiryPolicyName = Literal["end_of_next_year", "rolling_days", "never"]


@dataclass(frozen=True)
class ExpiryPolicy:
    policy: ExpiryPolicyName = "end_of_next_year"
    days: int = 0

    def __post_init__(self) -> None:
        if self.policy not in ("end_of_next_year", "rolling_days", "never"):
            raise ValueError(f"unknown expiry policy {self.policy!r}")
        if self.policy == "rolling_days" and self.days <= 0:
            raise ValueError("rolling_days needs days > 0")


def lot_expires_at(
    policy: ExpiryPolicy, earned_at: dt.datetime, timezone: str
) -> dt.datetime | None:
    """The instant a lot earned at `earned_at` expires (aware datetime), or None for never.

    `end_of_next_year`: points earned any day of 2026 stay usable through 31 Dec 2027 in the
    merchant's time zone, so they expire at 2028-01-01 00:00 local time.
    `rolling_days`: usable for N whole local days after the day they were earned; they expire
    at local midnight starting day earned + N + 1 (a lot earned at 23:59 does not lose a day).
    """
    if earned_at.tzinfo is None:
        raise ValueError("earned_at must be timezone-aware")
    zone = ZoneInfo(timezone)
    local = earned_at.astimezone(zone)
    if policy.policy == "never":
        return None
    if policy.policy == "end_of_next_year":
        return dt.datetime(local.year + 2, 1, 1, tzinfo=zone)
    last_day = local.date() + dt.timedelta(days=policy.days)
    boundary = last_day + dt.timedelta(days=1)
    return dt.datetime(boundary.year, boundary.month, boundary.day, tzinfo=zone)


@dataclass(frozen=True)
class EarnRule:
    """`points` points for every whole `per_amount` fen paid (API.md §2 `points.earn`)."""

    per_amount: int = 10000
    points: int = 1

    def __post_init__(self) -> None:
        if self.per_amount <= 0 or self.points < 0:
            raise ValueError("per_amount must be > 0 and points >= 0")


def points_earned(paid: int, rule: EarnRule, multiplier_percent: int = 100) -> int:
    """Whole points for `paid` fen: floor(paid / per_amount) * points * multiplier.

    Only whole units earn (99 yuan at 1 point / 100 yuan earns 0), and the multiplier (in
    percent, 150 = 1.5x) rounds down, so a refund can always reverse what was earned.
    """
    if paid <= 0:
        return 0
    units = paid // rule.per_amount
    return units * rule.points * multiplier_percent // 100
