"""Days in a merchant's time zone. Console pages run in it (console_view activates it), so the
zone defaults to the current one."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def start_of_day(day: dt.date, zone: dt.tzinfo | None = None) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone or timezone.get_current_timezone())


def end_of_day(day: dt.date, zone: dt.tzinfo | None = None) -> dt.datetime:
    """The last moment of `day` (for comparisons with <=)."""
    return start_of_day(day + dt.timedelta(days=1), zone) - dt.timedelta(microseconds=1)
